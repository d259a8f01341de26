"""The labelling loop (scripts/suggest.py, scripts/annotation_agreement.py): what to label next,
page furniture, diversity, label and review sheets, annotation agreement.
"""
