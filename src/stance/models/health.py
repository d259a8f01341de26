"""Did training learn anything? The stall and collapse checks every model family shares (no torch).

A family that optimises iteratively fills ``StanceModel.fit_log_`` in ``fit`` with these keys
(closed-form families leave it None; a key it cannot fill is None or left out):

``loss_first``
    The first logged training loss (the transformer logs its very first optimizer step).
``loss_last``
    The last logged training loss (the transformer: the mean over its last ``logging_steps``).
``steps``
    Optimizer steps taken.
``chance_loss``
    The loss of a model that predicts the class prior and nothing else: ``ln k`` for a
    cross-entropy with balanced class weights, the prior's entropy without weights
    (``chance_loss`` below); 0.25 for setfit's contrastive body (the MSE of a constant cosine
    over balanced similar/dissimilar pairs). Left out where no such reference is known:
    ``loss_first`` is then the reference instead.
``loss``
    Optional: a few words naming the loss, e.g. ``"cosine similarity (MSE)"``.
``stopped_on_budget``
    Optional: 1 when a time budget (the transformer's ``model.max_minutes``) ended training.

``health_metrics`` turns the log and a split's predictions into flat ``metrics.json`` keys
(``train/loss_first``, ``health/stalled``, ``health/collapsed_test``, ...); ``warnings`` turns
those keys back into sentences, so the summary, ``run.json`` and ``report.html`` say the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stance.advice import SMALL_SPLIT, kfold_command, small_split

# Training counts as learning once its loss is this fraction below the reference (chance).
STALL_MARGIN = 0.1
FIT_LOG_KEYS = ("loss_first", "loss_last", "steps", "chance_loss", "stopped_on_budget")


def chance_loss(counts: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Cross-entropy of the best constant prediction, in nats: ``ln k`` under balanced weights.

    With per-class ``weights`` the weighted mean loss of predicting ``q`` is minimised at
    ``q_c ∝ w_c n_c`` and equals that distribution's entropy.
    """
    mass = np.asarray(counts, dtype=float)
    if weights is not None:
        mass = mass * np.asarray(weights, dtype=float)
    share = mass[mass > 0] / mass.sum()
    return float(-(share * np.log(share)).sum())


def learning_started(loss: float | None, reference: float | None) -> bool:
    """True once ``loss`` is ``STALL_MARGIN`` below ``reference`` (chance, else the first loss)."""
    if loss is None or reference is None or not math.isfinite(loss):
        return False
    return loss < (1 - STALL_MARGIN) * reference


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def fit_metrics(fit_log: Mapping[str, Any] | None) -> dict[str, float]:
    """``train/<key>`` for the numbers in ``fit_log`` and ``health/stalled`` (0/1) when it has
    losses; empty for a closed-form fit."""
    log = {key: _number(value) for key, value in (fit_log or {}).items()}
    out = {f"train/{key}": log[key] for key in FIT_LOG_KEYS if log.get(key) is not None}
    first, last = log.get("loss_first"), log.get("loss_last")
    if first is not None and last is not None:
        reference = log.get("chance_loss") or first
        out["health/stalled"] = float(not learning_started(last, reference))
    return out


def prediction_metrics(gold: np.ndarray, pred: np.ndarray, n_classes: int, split: str) -> dict:
    """``health/collapsed_<split>``: 1 when every prediction is one class though the gold has
    several; ``health/unpredicted_<split>``: how many classes present in the gold never appear."""
    gold_seen = np.bincount(np.asarray(gold, dtype=int), minlength=n_classes) > 0
    pred_seen = np.bincount(np.asarray(pred, dtype=int), minlength=n_classes) > 0
    collapsed = pred_seen.sum() == 1 and gold_seen.sum() > 1
    return {
        f"health/collapsed_{split}": float(collapsed),
        f"health/unpredicted_{split}": float((gold_seen & ~pred_seen).sum()),
    }


def _classes(metrics: Mapping[str, float], split: str) -> list[str]:
    prefix = f"{split}/support/"
    return [key[len(prefix) :] for key in metrics if key.startswith(prefix)]


def _predicted(metrics: Mapping[str, float], split: str, classes: list[str]) -> dict[str, int]:
    """Predictions per class, summed from the split's confusion counts."""
    return {
        p: int(sum(metrics.get(f"{split}/confusion/{g}/{p}", 0.0) for g in classes))
        for p in classes
    }


def warnings(metrics: Mapping[str, float]) -> list[str]:
    """The sentences the ``health/*`` flags in ``metrics`` stand for; empty when all is well."""
    out = []
    if metrics.get("health/stalled"):
        first, last = metrics["train/loss_first"], metrics["train/loss_last"]
        chance = metrics.get("train/chance_loss")
        steps = metrics.get("train/steps")
        where = f"first {first:.3f}, last {last:.3f}"
        where += f", chance {chance:.3f}" if chance is not None else ""
        where += f", {steps:.0f} steps" if steps is not None else ""
        out.append(f"training loss did not fall ({where}): the model learned nothing")
    if metrics.get("train/stopped_on_budget"):
        steps = f" after {metrics['train/steps']:.0f} steps" if "train/steps" in metrics else ""
        out.append(f"training stopped on its time budget (model.max_minutes){steps}")
    prefix = "health/unpredicted_"
    for split in [key[len(prefix) :] for key in metrics if key.startswith(prefix)]:
        classes = _classes(metrics, split)
        predicted = _predicted(metrics, split, classes)
        if metrics.get(f"health/collapsed_{split}"):
            only = next(c for c, n in predicted.items() if n)
            out.append(f"predictions collapsed to one class (all {only!r} on {split})")
        elif metrics.get(f"{prefix}{split}"):
            for name in classes:
                support = int(metrics[f"{split}/support/{name}"])
                if support and not predicted[name]:
                    out.append(f"{name!r} never predicted on {split} ({support} rows are {name!r})")
    return out + _data_warnings(metrics)


def data_metrics(
    splits: Mapping[str, Mapping[str, Sequence]], labels: Sequence[str], kfold: bool
) -> dict[str, float]:
    """``data/*`` keys: each scored split's rows, the labels it lacks and the targets of the
    training rows it lacks; ``splits``: split -> {"label": indices, "target": names (optional)}."""
    out: dict[str, float] = {"data/kfold": float(kfold)}
    trained = set(splits.get("train", {}).get("target") or [])
    for split, columns in splits.items():
        if split == "train":
            continue
        gold = np.asarray(columns["label"], dtype=int)
        out[f"data/rows/{split}"] = float(len(gold))
        for k, name in enumerate(labels):
            if len(gold) and not (gold == k).any():
                out[f"data/missing_label/{split}/{name}"] = 1.0
        present = set(columns.get("target") or [])
        for target in sorted(trained - present) if present else []:
            out[f"data/missing_target/{split}/{target}"] = 1.0
    return out


def _data_warnings(metrics: Mapping[str, float]) -> list[str]:
    """The sentences of the ``data/*`` keys: small splits, labels and policies a split lacks."""
    out = []
    kfold = bool(metrics.get("data/kfold"))
    for key, rows in metrics.items():
        if key.startswith("data/rows/") and 0 < rows < SMALL_SPLIT:
            split = key.rsplit("/", 1)[1]
            fix = (
                "compare pools the folds' predictions"
                if kfold
                else f"use cross-validation: {kfold_command('<name>')}"
            )
            out.append(small_split(split, int(rows), fix))
    for kind, what in (("missing_label", "label"), ("missing_target", "policy")):
        missing: dict[str, list[str]] = {}
        for key in metrics:
            if key.startswith(f"data/{kind}/"):
                split, name = key[len(f"data/{kind}/") :].split("/", 1)
                missing.setdefault(split, []).append(name)
        for split, names in missing.items():
            out.append(
                f"the {split} split has no row of {what} {', '.join(map(repr, names))}: "
                f"its score there is not measured"
            )
    return out


def health_metrics(
    fit_log: Mapping[str, Any] | None,
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]],
    n_classes: int,
) -> dict[str, float]:
    """``fit_metrics`` plus ``prediction_metrics`` of each split: split -> (gold, pred) indices."""
    out = fit_metrics(fit_log)
    for split, (gold, pred) in predictions.items():
        out.update(prediction_metrics(gold, pred, n_classes, split))
    return out
