"""Training and evaluation runs (scripts/train.py, scripts/evaluate.py): the pipeline, the run
report page, experiment trackers.
"""
