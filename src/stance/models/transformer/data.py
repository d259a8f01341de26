"""Tokenisation for the transformer family: (target, text) pairs, overlapping windows, batching."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import Sampler
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
