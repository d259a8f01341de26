"""Scores and statistics shared by every layer: F_avg and friends (metrics.py), intervals and tests
(stats.py).
"""
