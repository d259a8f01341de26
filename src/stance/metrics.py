"""Stance metrics for one split: F_avg, macro-F1, per-class scores, AUCs, calibration, intervals.

Keys are flat and un-prefixed here (``f_avg``, ``f1/pro``, ``by_target/<t>/f_avg``); the caller
adds the split (``test/f_avg``). Scores are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from stance.stats import batch_metric, bootstrap_interval, resample_indices

NEUTRAL = "neutral"
HEADLINE = "f_avg"


def stance_labels(classes: Sequence[str]) -> list[str]:
    """The stance-bearing labels: every label except ``neutral`` (SemEval-2016 F_avg)."""
    return [c for c in classes if c != NEUTRAL]


def classification_metrics(gold: np.ndarray, pred: np.ndarray, classes: Sequence[str]) -> dict:
    """Accuracy, macro-F1, F_avg, per-class precision/recall/F1/support and confusion counts.

    ``gold`` and ``pred`` are integer indices into ``classes``.
    """
    idx = list(range(len(classes)))
    prec, rec, f1, support = precision_recall_fscore_support(
        gold, pred, labels=idx, zero_division=0
    )
    stance = [i for i, c in enumerate(classes) if c in stance_labels(classes)]
    out: dict[str, float] = {
        "n": float(len(gold)),
        "accuracy": float(np.mean(gold == pred)) if len(gold) else float("nan"),
        "f1_macro": float(np.mean(f1)),
        "f_avg": float(np.mean(f1[stance])),
    }
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
    groups: dict[str, Sequence[str]] | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Every metric of one split from gold indices and probabilities (columns = ``classes``).

    ``groups`` maps a column name (``target``, ``source``) to one value per example; each value
    gets ``by_<column>/<value>/<metric>`` for F_avg, macro-F1, accuracy and n.
    """
    gold = np.asarray(gold, dtype=int)
    pred = proba.argmax(axis=1)
    out = classification_metrics(gold, pred, classes)
    out.update(probability_metrics(gold, proba, classes))
    if n_bootstrap > 0 and len(gold):
        idx = resample_indices(len(gold), n_bootstrap, seed)
        low, high = bootstrap_interval(
            batch_metric(HEADLINE, classes), gold, pred, idx, confidence=confidence
        )
        out[f"{HEADLINE}_ci_low"], out[f"{HEADLINE}_ci_high"] = low, high
    for column, values in (groups or {}).items():
        values = np.asarray(list(values), dtype=object)
        for value in sorted(set(values)):
            rows = values == value
            scores = classification_metrics(gold[rows], pred[rows], classes)
            key = str(value).replace("/", "_")
            for name in ("f_avg", "f1_macro", "accuracy", "n"):
                out[f"by_{column}/{key}/{name}"] = scores[name]
    return out
