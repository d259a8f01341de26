"""Targets (policies) in a model: conjunction features, who shares the global model, unseen ones.

A policy with enough training rows may get a classifier of its own; every other policy shares
one global model that still knows the policy through target-conjunction features: a copy of
each row's features in its policy's own block, scaled down so that the shared n-grams carry the
small policies and each policy's block only corrects them (hierarchical "frustratingly easy"
domain adaptation, Daumé III 2007).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

# The global model's input grows by one copy of the n-gram features per target with a block, and
# its coefficients are dense: 4,000 targets x 800k features asked for 72 GiB (issue 24). Only the
# targets with the most training rows get a block; the rest are read by the shared weights alone.
MAX_BLOCKS = 100  # targets with a conjunction block, at most
MIN_BLOCK_ROWS = 5  # training rows a target needs for a block of its own
LISTED = 20  # policies named in a summary line; the others are counted


def blocked_targets(target_rows: dict[str, int]) -> list[str]:
    """The targets that get a conjunction block: at least ``MIN_BLOCK_ROWS`` training rows, the
    ``MAX_BLOCKS`` with the most rows (ties by name), in name order."""
    ranked = sorted((t for t, n in target_rows.items() if n >= MIN_BLOCK_ROWS),
                    key=lambda t: (-target_rows[t], t))  # fmt: skip
    return sorted(ranked[:MAX_BLOCKS])


def conjunction(
    x: sp.csr_matrix,
    targets: Sequence[str | None] | None,
    known: Sequence[str],
    weight: float,
    bias: bool = False,
) -> sp.csr_matrix:
    """``x`` followed by its rows copied, times ``weight``, into their target's block: shape
    (n, width * (1 + len(known))), plus with ``bias`` one intercept column per target (also times
    ``weight``). A target outside ``known`` (or None) gets no copy: the shared weights label it."""
    x = sp.csr_matrix(x)
    n_targets, width = len(known), x.shape[1]
    index = {t: i for i, t in enumerate(known)}
    slot = np.array([index.get(t, -1) for t in targets or [None] * x.shape[0]], dtype=int)
    lengths = np.diff(x.indptr)
    on = np.repeat(slot >= 0, lengths)
    shift = np.repeat(np.maximum(slot, 0), lengths) * width
    copy = sp.csr_matrix(
        (x.data * on * weight, x.indices + shift, x.indptr), shape=(x.shape[0], n_targets * width)
    )
    if not bias:
        return sp.hstack([x, copy], format="csr")
    rows = np.flatnonzero(slot >= 0)
    intercept = sp.csr_matrix(
        (np.full(len(rows), weight), (rows, slot[rows])), shape=(x.shape[0], n_targets)
    )
    return sp.hstack([x, copy, intercept], format="csr")


def sharing(model: Any) -> dict[str, Any] | None:
    """Which seen policies got their own classifier and which share the global model, with their
    training row counts: ``{"own_classifier": {t: rows}, "shared": {t: rows}, "shared_model":
    how the global model reads the policy}``; None when the model never reads a target."""
    seen = getattr(model, "seen_targets_", None)
    if seen is None:
        return None
    rows = getattr(model, "target_rows_", None) or {}
    own = set(getattr(model, "per_target_", None) or {})
    how = getattr(model, "shared_target_use", None)
    return {
        "own_classifier": {t: rows.get(t) for t in seen if t in own},
        "shared": {t: rows.get(t) for t in seen if t not in own},
        "shared_model": how() if callable(how) else "the target is part of the model's input",
    }


def rows_by_target(split: dict[str, Any] | None) -> dict[str, int]:
    """The training rows per target, back from a ``sharing`` dict (as read from JSON)."""
    split = split or {}
    return dict(sorted({**split.get("own_classifier", {}), **split.get("shared", {})}.items()))


def target_report(model: Any) -> list[str]:
    """Lines for a training summary or model card: which policies got their own classifier and
    which share the global model (with training rows), or that the model ignores the target."""
    split = sharing(model)
    if split is None:
        return ["policies: text-only model; the target (policy) is not used"]

    def listed(part: dict[str, int | None]) -> str:
        named = [t if n is None else f"{t} ({n} rows)" for t, n in part.items()]
        more = f", and {len(named) - LISTED} more" if len(named) > LISTED else ""
        return ", ".join(named[:LISTED]) + more or "none"

    own, shared = split["own_classifier"], split["shared"]
    lines = [f"policies with their own classifier ({len(own)}): {listed(own)}"] if own else []
    lines.append(f"policies sharing the global model ({len(shared)}): {listed(shared)}")
    lines.append(f"global model: {split['shared_model']}")
    return lines


def unseen_targets(seen: Sequence[str] | None, targets: Iterable[str | None]) -> list[str]:
    """The distinct targets outside ``seen``, in first-seen order (none when ``seen`` is None)."""
    if seen is None:
        return []
    known = set(seen)
    return list(dict.fromkeys(t for t in targets if t is not None and t not in known))


def closest_target(target: str, seen: Sequence[str] | None) -> str | None:
    """The seen target ``target`` is most likely a misspelling of, or None."""
    if not seen:
        return None
    folded = {t.casefold(): t for t in seen}
    if target.casefold().strip() in folded:
        return folded[target.casefold().strip()]
    match = difflib.get_close_matches(target.casefold(), list(folded), n=1, cutoff=0.75)
    return folded[match[0]] if match else None
