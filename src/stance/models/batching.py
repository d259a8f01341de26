"""Rows cut into batches for a model call, and probabilities turned into label names: one
implementation for every model family, runtime and caller (numpy only: no torch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# (texts, targets or None) -> probabilities (len(texts), n_classes): a model's predict_proba
ProbaFn = Callable[[list[str], list[str] | None], np.ndarray]


def batched_proba(
    predict_proba: ProbaFn,
    texts: Sequence[str],
    targets: Sequence[str | None] | None,
    batch_size: int,
    n_classes: int,
) -> np.ndarray:
    """``predict_proba`` on ``batch_size`` rows at a time (each with its own rows' targets),
    stacked in row order: (len(texts), n_classes); no call at all for no texts."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    texts = list(texts)
    targets = None if targets is None else list(targets)
    parts = [
        predict_proba(
            texts[start : start + batch_size],
            None if targets is None else targets[start : start + batch_size],
        )
        for start in range(0, len(texts), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, n_classes))


def labels_from_proba(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """The label name of each row, from ``classes`` (an object array): the column of highest
    probability, the first such column on ties."""
    return np.asarray(classes, dtype=object)[np.asarray(proba).argmax(axis=1)]
