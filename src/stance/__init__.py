"""Stance classification experiments: datasets, models, evaluation and comparison."""

__version__ = "0.1.0"
