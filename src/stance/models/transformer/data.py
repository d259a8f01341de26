"""Tokenisation for the transformer family: (target, text) pairs, overlapping windows, batching."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler
from tqdm import tqdm
from transformers import PreTrainedTokenizerBase
from transformers.trainer_pt_utils import get_length_grouped_indices

from stance.errors import StanceError, problem

# Key the fast tokenizer uses to say which paragraph each window came from.
WINDOW_SOURCE = "overflow_to_sample_mapping"


def encode_windows(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    targets: Sequence[str] | None,
    max_length: int,
    stride: int,
) -> dict[str, list]:
    """Tokenise paragraphs into windows of at most ``max_length`` tokens, unpadded.

    With ``targets`` each window is the pair ``(target, slice of text)``, so every window still
    says which policy it is about. ``stride`` is the number of tokens consecutive windows share.
    The result maps ``WINDOW_SOURCE`` to the paragraph index of every window.
    """
    common: dict[str, Any] = {
        "max_length": max_length,
        "stride": stride,
        "return_overflowing_tokens": True,
        "padding": False,
    }
    try:
        if targets is None:
            enc = tokenizer(list(texts), truncation=True, **common)
        else:
            enc = tokenizer(
                [t or "" for t in targets], list(texts), truncation="only_second", **common
            )
    except Exception as err:  # the fast tokenizer raises bare Exceptions for impossible windows
        raise StanceError(
            problem(
                "model.max_length / model.stride",
                f"cannot cut the paragraphs into windows of {max_length} tokens with a stride of "
                f"{stride} ({err})",
                "raise model.max_length, lower model.stride, or shorten the longest `target`",
            )
        ) from err
    return {key: list(value) for key, value in enc.items()}


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
    forward: Callable[[dict[str, torch.Tensor]], np.ndarray],
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
) -> dict[str, torch.Tensor]:
    """Pad the windows ``rows`` to their longest member (dynamic padding) as tensors."""
    width = max(len(features["input_ids"][i]) for i in rows)
    batch: dict[str, torch.Tensor] = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        if key not in features:
            continue
        fill = pad_token_id if key == "input_ids" else 0
        out = np.full((len(rows), width), fill, dtype=np.int64)
        for r, i in enumerate(rows):
            seq = features[key][i]
            out[r, : len(seq)] = seq
        batch[key] = torch.from_numpy(out)
    return batch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Yield index batches in order of length, so each batch pads to a similar width."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class LengthGroupedEpochSampler(Sampler[int]):
    """Length-grouped shuffled order that depends only on ``(seed, epoch)``.

    A resumed run therefore replays exactly the order of the interrupted one, and the Trainer can
    skip the batches already seen.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer (through accelerate) before each epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))
