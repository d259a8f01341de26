"""Statistics for comparing runs on one test set: bootstrap intervals and paired tests.

The metrics they resample are ``stance.scoring.metrics.batch_metric``: the same code that writes
metrics.json. Predictions are integer label indices. A config with several seeds is a matrix
``(n_seeds, n)``; its score on a sample of examples is the mean over seeds of the metric on that
sample, so the bootstrap resamples test *examples* (the same indices for every seed and for both
configs of a paired test) and keeps seed-to-seed variation inside the score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import binomtest

# Score of a batch of samples: gold (b, n), pred (b, n) -> (b,).
BatchMetric = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _seed_mean(metric: BatchMetric, gold: np.ndarray, preds: np.ndarray, idx: np.ndarray):
    """Mean over seeds of ``metric`` on the resamples ``idx`` (b, n); preds is (n_seeds, n)."""
    return np.mean([metric(gold[idx], seed_pred[idx]) for seed_pred in preds], axis=0)


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """Bootstrap samples of example positions, shape (n_resamples, n), reproducible by ``seed``."""
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def bootstrap_interval(
    metric: BatchMetric,
    gold: np.ndarray,
    preds: np.ndarray,
    idx: np.ndarray,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the seed-mean score; ``preds`` is (n_seeds, n)."""
    scores = _seed_mean(metric, gold, np.atleast_2d(preds), idx)
    tail = (1 - confidence) / 2
    low, high = np.quantile(scores, [tail, 1 - tail])
    return float(low), float(high)


def paired_bootstrap(
    metric: BatchMetric,
    gold: np.ndarray,
    preds_a: np.ndarray,
    preds_b: np.ndarray,
    idx: np.ndarray,
) -> float:
    """Two-sided p-value that configs A and B score the same, on the same resampled examples.

    The p-value is twice the share of resamples on the less frequent side of zero difference
    (capped at 1): identical predictions give a zero difference on every resample and p = 1.
    """
    diff = _seed_mean(metric, gold, np.atleast_2d(preds_a), idx) - _seed_mean(
        metric, gold, np.atleast_2d(preds_b), idx
    )
    one_side = min((diff <= 0).mean(), (diff >= 0).mean())
    return float(min(1.0, 2 * one_side))


def majority_vote(preds: np.ndarray) -> np.ndarray:
    """One prediction per example from (n_seeds, n) predictions; a tie goes to the first seed."""
    preds = np.atleast_2d(preds)
    n_labels = int(preds.max()) + 1
    votes = np.stack([(preds == c).sum(axis=0) for c in range(n_labels)], axis=-1)
    # Half a vote for the first seed's label breaks ties without overturning a real majority.
    return (votes + 0.5 * (preds[0][:, None] == np.arange(n_labels))).argmax(axis=-1)


def mcnemar(gold: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    """Exact McNemar p-value: a binomial test on the examples exactly one of A and B gets right."""
    right_a, right_b = pred_a == gold, pred_b == gold
    only_a = int((right_a & ~right_b).sum())
    only_b = int((~right_a & right_b).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
