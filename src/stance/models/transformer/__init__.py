"""The fine-tuned transformer family: the model (model.py), its settings, windowed data, training
loop and progress.
"""
