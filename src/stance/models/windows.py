"""Paragraphs as windows of tokens, in numpy only: batching by length, dynamic padding, and the
windows' probabilities averaged back per paragraph. One implementation for the PyTorch transformer,
its validation metrics and the ONNX runtimes, which must not import torch."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from stance.errors import StanceError, problem


def pair_targets(uses_target: bool, targets: Sequence[str] | None) -> Sequence[str] | None:
    """The targets a pair model needs (an error when missing); None for a text-only model."""
    if uses_target and targets is None:
        raise StanceError(
            problem(
                "predict",
                "this model was trained on (target, text) pairs but got no targets",
                "pass one target per text (the policy each paragraph is about)",
            )
        )
    return targets if uses_target else None


def mean_by_paragraph(window_proba: np.ndarray, source: Sequence[int], n: int) -> np.ndarray:
    """Average window probabilities per paragraph: (n_windows, k) -> (n, k)."""
    sums = np.zeros((n, window_proba.shape[1]), dtype=np.float64)
    np.add.at(sums, np.asarray(source), window_proba)
    counts = np.bincount(np.asarray(source), minlength=n).astype(np.float64)
    return sums / counts[:, None]


def paragraph_proba(
    logits: np.ndarray, source: Sequence[int], n: int, temperature: float = 1.0
) -> np.ndarray:
    """Softmax of each window's ``logits / temperature``, averaged per paragraph: (n, k).

    One implementation for the PyTorch model, its validation metrics and the ONNX runtime.
    """
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)  # no overflow in exp
    exp = np.exp(scaled)
    return mean_by_paragraph(exp / exp.sum(axis=1, keepdims=True), source, n)


def window_logits(
    features: dict[str, list],
    n_classes: int,
    batch_size: int,
    pad_token_id: int,
    forward: Callable[[dict[str, np.ndarray]], np.ndarray],
    desc: str | None = None,
) -> np.ndarray:
    """``forward`` over the windows in batches of similar length; logits in window order.
    ``desc``: a tqdm bar of that name on stderr, from 20 batches on (never for a few texts)."""
    lengths = [len(ids) for ids in features["input_ids"]]
    logits = np.empty((len(lengths), n_classes), dtype=np.float32)
    n = -(-len(lengths) // batch_size)
    batches = length_sorted_batches(lengths, batch_size)
    quiet = desc is None or n < 20
    for rows in tqdm(batches, desc, n, unit="batch", file=sys.stderr, disable=quiet):
        logits[rows] = forward(pad_batch(features, rows, pad_token_id))
    return logits


def pad_batch(
    features: dict[str, list], rows: Sequence[int], pad_token_id: int
) -> dict[str, np.ndarray]:
    """Pad the windows ``rows`` to their longest member (dynamic padding): int64 arrays."""
    width = max(len(features["input_ids"][i]) for i in rows)
    batch: dict[str, np.ndarray] = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        if key not in features:
            continue
        fill = pad_token_id if key == "input_ids" else 0
        out = np.full((len(rows), width), fill, dtype=np.int64)
        for r, i in enumerate(rows):
            seq = features[key][i]
            out[r, : len(seq)] = seq
        batch[key] = out
    return batch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Yield index batches in order of length, so each batch pads to a similar width."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
