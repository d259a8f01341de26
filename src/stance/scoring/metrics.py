"""Stance metrics for one split: F_avg, macro-F1, per-class scores, AUCs, calibration, intervals.

Keys are flat and un-prefixed here (``f_avg``, ``f1/pro``, ``by_target/<t>/f_avg``); the caller
adds the split (``test/f_avg``). Scores are fractions in [0, 1].

A slice's scores (``by_<column>/<value>/...``) are NaN ("undefined", null in metrics.json) when a
class they average over is absent from both the slice's gold labels and its predictions: that
class's F1 is 0/0 (scikit-learn's ``f1_score(labels=..., zero_division=np.nan)``), and a mean with
an undefined term is undefined (``average="macro"`` would instead average only the classes
present). The split's own scores keep counting such a class as F1 0, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from stance.scoring.stats import BatchMetric, bootstrap_interval, resample_indices

HEADLINE = "f_avg"
# The metric names every report, compare's default columns and the transformer's checkpoint
# choice use: each is computed by `batch_metric` on any resample, so each has an interval.
BATCH_METRICS = ("f_avg", "f1_macro", "accuracy")
# by_<column>/_other/...: the values of a column with fewer rows than `min_rows`, pooled; its
# `groups` key counts them
OTHER = "_other"


def stance_indices(classes: Sequence[str], neutral: str | None) -> list[int]:
    """The stance-bearing labels' positions: every label except the dataset's no-stance label."""
    return [i for i, c in enumerate(classes) if c != neutral]


def f1_per_class(gold: np.ndarray, pred: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """F1 of each class index for each row of (b, n) or (n,) arrays; 0 where undefined."""
    scores = []
    for c in classes:
        tp = ((gold == c) & (pred == c)).sum(axis=-1)
        fp = ((gold != c) & (pred == c)).sum(axis=-1)
        fn = ((gold == c) & (pred != c)).sum(axis=-1)
        denom = 2 * tp + fp + fn
        scores.append(np.divide(2 * tp, denom, out=np.zeros(denom.shape), where=denom > 0))
    return np.stack(scores, axis=-1)


def batch_metric(name: str, classes: Sequence[str], neutral: str | None) -> BatchMetric:
    """``f_avg``, ``f1_macro`` or ``accuracy`` of gold/pred index arrays, (b, n) -> (b,).

    The one implementation behind metrics.json and every statistic compare computes. ``f_avg``
    is the SemEval-2016 score: the mean F1 of the stance labels (all but ``neutral``, the
    dataset's declared no-stance label, which counts only through its errors).
    """
    every = list(range(len(classes)))
    stance = stance_indices(classes, neutral)
    if name == "accuracy":
        return lambda gold, pred: (gold == pred).mean(axis=-1)
    if name == "f1_macro":
        return lambda gold, pred: f1_per_class(gold, pred, every).mean(axis=-1)
    if name == "f_avg":
        return lambda gold, pred: f1_per_class(gold, pred, stance).mean(axis=-1)
    raise KeyError(name)


def classification_metrics(
    gold: np.ndarray, pred: np.ndarray, classes: Sequence[str], neutral: str | None
) -> dict:
    """Accuracy, macro-F1, F_avg, per-class precision/recall/F1/support and confusion counts.

    ``gold`` and ``pred`` are integer indices into ``classes``.
    """
    idx = list(range(len(classes)))
    prec, rec, _, support = precision_recall_fscore_support(gold, pred, labels=idx, zero_division=0)
    f1 = f1_per_class(gold, pred, idx)
    out: dict[str, float] = {"n": float(len(gold))}
    for name in BATCH_METRICS:
        value = batch_metric(name, classes, neutral)(gold, pred) if len(gold) else float("nan")
        out[name] = float(value)
    for i, name in enumerate(classes):
        out[f"precision/{name}"] = float(prec[i])
        out[f"recall/{name}"] = float(rec[i])
        out[f"f1/{name}"] = float(f1[i])
        out[f"support/{name}"] = float(support[i])
    matrix = confusion_matrix(gold, pred, labels=idx)
    for i, g in enumerate(classes):
        for j, p in enumerate(classes):
            out[f"confusion/{g}/{p}"] = float(matrix[i, j])
    return out


def probability_metrics(gold: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> dict:
    """ROC-AUC, PR-AUC (one-vs-rest, macro over the classes present) and calibration error."""
    roc, pr = [], []
    for i in range(len(classes)):
        positive = gold == i
        # A class absent from (or making up all of) the split has no defined AUC; skip it.
        if 0 < positive.sum() < len(gold):
            roc.append(roc_auc_score(positive, proba[:, i]))
            pr.append(average_precision_score(positive, proba[:, i]))
    nan = float("nan")
    return {
        "roc_auc": float(np.mean(roc)) if roc else nan,
        "pr_auc": float(np.mean(pr)) if pr else nan,
        "ece": expected_calibration_error(gold, proba),
    }


def expected_calibration_error(gold: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-class confidence over ``n_bins`` equal-width bins (Guo et al., 2017)."""
    if len(gold) == 0:
        return float("nan")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == gold
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        members = bins == b
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


def split_metrics(
    gold: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    neutral: str | None,
    groups: dict[str, Sequence[str]] | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    min_rows: int = 1,
    intervals: Sequence[str] = (HEADLINE,),
) -> dict[str, float]:
    """Every metric of one split from gold indices and probabilities (columns = ``classes``), with
    a bootstrap interval (``<metric>_ci_low`` / ``_ci_high``) for each metric in ``intervals``,
    all on the same resamples.

    ``groups`` maps a column name (``target``, ``source``) to one value per example; each value
    with ``min_rows`` rows or more gets ``by_<column>/<value>/<metric>`` for F_avg, macro-F1,
    accuracy and n, the rest are pooled (``group_metrics``).
    """
    gold = np.asarray(gold, dtype=int)
    pred = proba.argmax(axis=1)
    out = classification_metrics(gold, pred, classes, neutral)
    out.update(probability_metrics(gold, proba, classes))
    if n_bootstrap > 0 and len(gold):
        idx = resample_indices(len(gold), n_bootstrap, seed)
        for name in dict.fromkeys(intervals):
            low, high = bootstrap_interval(
                batch_metric(name, classes, neutral), gold, pred, idx, confidence=confidence
            )
            out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
    for column, values in (groups or {}).items():
        out.update(group_metrics(gold, pred, column, values, classes, neutral, min_rows))
    return out


def slice_scores(
    gold: np.ndarray, pred: np.ndarray, classes: Sequence[str], neutral: str | None
) -> dict[str, float]:
    """n, accuracy, F_avg and macro-F1 of one slice; NaN for a score over an absent class."""
    f1 = f1_score(gold, pred, labels=list(range(len(classes))), average=None, zero_division=np.nan)
    stance = stance_indices(classes, neutral)
    return {
        "n": len(gold),
        "f_avg": float(np.mean(f1[stance])),  # NaN when any stance label's F1 is NaN
        "f1_macro": float(np.mean(f1)),
        "accuracy": float((gold == pred).mean()) if len(gold) else float("nan"),
    }


def group_metrics(
    gold: np.ndarray,
    pred: np.ndarray,
    column: str,
    values: Sequence[str | None],
    classes: Sequence[str],
    neutral: str | None,
    min_rows: int = 1,
) -> dict[str, float]:
    """``by_<column>/<value>/{n,f_avg,f1_macro,accuracy}`` for each value with ``min_rows`` rows
    or more; the other values' rows pooled under ``by_<column>/_other/`` (with ``groups``)."""
    values = np.asarray(["(blank)" if v is None else str(v) for v in values], dtype=object)
    names, counts = np.unique(values, return_counts=True) if len(values) else ([], [])
    small = [v for v, n in zip(names, counts, strict=True) if n < min_rows]
    out: dict[str, float] = {}
    for value in [v for v in names if v not in small]:
        scores = slice_scores(gold[values == value], pred[values == value], classes, neutral)
        key = value.replace("/", "_")
        out.update({f"by_{column}/{key}/{name}": v for name, v in scores.items()})
    if small:
        rows = np.isin(values, small)
        scores = slice_scores(gold[rows], pred[rows], classes, neutral)
        scores["groups"] = len(small)
        out.update({f"by_{column}/{OTHER}/{name}": v for name, v in scores.items()})
    return out
