"""Exact duplicates (after NFKC, case and whitespace normalisation), label conflicts, near-dups.

Exact: rows whose shingle keys collide are compared by their normalised text; equal ones form a
group headed by the first row. Near: rows sharing a (sampled) word-bigram shingle are candidates,
their exact shingle-set Jaccard decides; shingles shared by more than `max_bucket` rows are too
common to say anything and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from stance.data.near_kernels import common_counts, likely_pairs, shared_pairs
from stance.data.parallel import run_all, workers
from stance.data.schema import DedupConfig
from stance.data.shingles import (
    Shingles,
    normalize,
    pack,
    row_bits,
    row_shingles,
    shingles,
    unpack,
)
from stance.errors import StanceError, problem

EXAMPLES = 5


@dataclass
class Dedup:
    """Which rows survive, their exact-duplicate group, near-duplicate edges, counts and report."""

    keep: np.ndarray  # (n,) bool
    group: np.ndarray  # (n,) index of the first row with the same normalised text
    edges: tuple[np.ndarray, np.ndarray]  # near-duplicate pairs (a < b) among kept rows
    text: Callable[[np.ndarray], pa.ChunkedArray]  # the text of numbered rows (ascending)
    counts: dict[str, int] = field(default_factory=dict)
    report: dict = field(default_factory=dict)


def _sorted(values: np.ndarray, rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(value, row) pairs sorted by value, then row (values shortened: see shingles.pack)."""
    packed = pack(values, rows, n_rows)
    packed.sort()
    return unpack(packed, n_rows)


def _repeated(values: np.ndarray) -> np.ndarray:
    """Mask of the entries of a sorted array equal to a neighbour."""
    same = values[1:] == values[:-1]
    out = np.zeros(len(values), dtype=bool)
    out[1:] |= same
    out[:-1] |= same
    return out


def first_equal(hashes: np.ndarray, values: Callable[[np.ndarray], list]) -> np.ndarray:
    """Per entry, the index of the first entry with an equal value.

    Equal values must have equal `hashes`; only entries whose (shortened) hash repeats are
    compared, by their `values(entries)` (entries ascending -> their values, in that order).
    """
    first = np.arange(len(hashes))
    shortened, rows = _sorted(hashes, first, len(hashes))
    candidates = np.sort(rows[_repeated(shortened)])
    seen: dict = {}
    for i, value in zip(candidates.tolist(), values(candidates), strict=True):
        first[i] = seen.setdefault(value, i)
    return first


def exact_groups(key: np.ndarray, text: Callable[[np.ndarray], pa.ChunkedArray]) -> np.ndarray:
    """Per row, the index of the first row with the same normalised text."""
    return first_equal(key, lambda rows: [normalize(t) for t in text(rows).to_pylist()])


def deduplicate(
    texts: pa.ChunkedArray,
    label: np.ndarray,
    cfg: DedupConfig,
    labels: list[str],
    where: Callable[[int], str],
    mask: np.ndarray | None = None,
) -> Dedup:
    """Collapse exact duplicates, resolve label conflicts, find (and maybe drop) near-duplicates.

    With `mask`, only the rows of `texts` it selects take part (numbered 0.. among themselves).
    """
    sh = shingles(texts, mask)
    group = exact_groups(sh.key, sh.text)
    keep, counts, report = _collapse(group, label, cfg, labels, where)
    a, b, jac = near_pairs(sh, keep, cfg.threshold, cfg.max_bucket)
    dropped, found = 0, len(a)
    if cfg.action == "drop" and len(a):
        comp = components(len(keep), a, b)
        head = np.full(comp.max() + 1, len(keep))
        np.minimum.at(head, comp[a], a)
        nodes = np.unique(np.concatenate([a, b]))
        drop = nodes[head[comp[nodes]] != nodes]
        keep[drop] = False
        dropped = len(drop)
        alive = keep[a] & keep[b]
        a, b, jac = a[alive], b[alive], jac[alive]
    counts["near_duplicates_dropped"] = dropped
    report["near"] = {
        "threshold": cfg.threshold,
        "action": cfg.action,
        "pairs": int(found),
        "rows_dropped": dropped,
        "examples": [
            {"a": where(int(i)), "b": where(int(j)), "jaccard": round(float(s), 3)}
            for i, j, s in zip(a[:EXAMPLES], b[:EXAMPLES], jac[:EXAMPLES], strict=True)
        ],
    }
    return Dedup(keep, group, (a, b), sh.text, counts, report)


def _collapse(
    group: np.ndarray,
    label: np.ndarray,
    cfg: DedupConfig,
    labels: list[str],
    where: Callable[[int], str],
) -> tuple[np.ndarray, dict[str, int], dict]:
    n = len(group)
    keep = np.ones(n, dtype=bool)
    copies = np.flatnonzero(group != np.arange(n))  # rows whose text an earlier row has
    heads = np.unique(group[copies])
    grouped = np.concatenate([heads, copies])
    low, high = np.full(n, len(labels)), np.full(n, -1)
    np.minimum.at(low, group[grouped], label[grouped])
    np.maximum.at(high, group[grouped], label[grouped])
    mixed = low != high  # by head: its group has more than one label
    agreeing = copies[~mixed[group[copies]]]
    merged = len(agreeing) if cfg.exact == "collapse" else 0
    if cfg.exact == "collapse":
        keep[agreeing] = False
    members: dict[int, list[int]] = {}
    for i in grouped[mixed[group[grouped]]].tolist():
        members.setdefault(int(group[i]), []).append(i)
    conflict_rows = 0
    conflicts = [sorted(rows) for rows in members.values()]

    def describe(rows: list[int]) -> dict:
        """Where the rows are and their labels, for the card and the error."""
        return {"rows": [where(r) for r in rows], "labels": [labels[x] for x in label[rows]]}

    if conflicts and cfg.exact == "collapse" and cfg.conflicts == "error":
        raise StanceError(_conflict_message(describe(min(conflicts))))
    for rows in conflicts if cfg.exact == "collapse" else []:
        labs = label[rows]
        votes = np.bincount(labs)
        if cfg.conflicts == "drop" or (votes == votes.max()).sum() > 1:
            keep[rows] = False
            conflict_rows += len(rows)
            continue
        first = rows[int(np.flatnonzero(labs == votes.argmax())[0])]
        keep[rows] = False
        keep[first] = True
        merged += len(rows) - 1
    counts = {"duplicates_merged": merged, "conflicts_dropped": conflict_rows}
    report = {
        "exact": {
            "mode": cfg.exact,
            "groups": len(heads),
            "rows_in_groups": len(grouped),
            "merged": merged,
            "examples": [
                [where(int(r)) for r in np.flatnonzero(group == h)] for h in heads[:EXAMPLES]
            ],
        },
        "conflicts": {
            "policy": cfg.conflicts if cfg.exact == "collapse" else "report",
            "groups": len(conflicts),
            "rows_dropped": conflict_rows,
            "examples": [describe(rows) for rows in conflicts[:EXAMPLES]],
        },
    }
    return keep, counts, report


def _conflict_message(conflict: dict) -> str:
    pairs = ", ".join(f"{w} ({lab})" for w, lab in zip(*conflict.values(), strict=True))
    return problem(
        conflict["rows"][0],
        f"the same text (after normalisation) has different labels: {pairs}",
        "fix the labels, or set dataset.dedup.conflicts=drop (drop them all) or =majority",
    )


def near_pairs(
    sh: Shingles, keep: np.ndarray, threshold: float, max_bucket: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of kept rows (a < b) whose shingle-set Jaccard is at least `threshold`."""
    n = len(keep)
    bits = row_bits(n)
    # one range of shingles per core, cut between runs of equal shingles
    cuts = [0]
    for k in range(1, workers()):
        cut = max(len(sh.sample) * k // workers(), cuts[-1])
        while 0 < cut < len(sh.sample) and sh.sample[cut] >> bits == sh.sample[cut - 1] >> bits:
            cut += 1
        cuts.append(cut)
    cuts.append(len(sh.sample))
    found = run_all(
        *(
            partial(_sorted_pairs, sh.sample[lo:hi], bits, keep, max_bucket)
            for lo, hi in pairwise(cuts)
        )
    )
    first = found[0]
    second = np.concatenate([np.zeros(0, np.int64), *found[1:]])
    if len(found) > 2:
        second.sort()
    # the sampled estimate is noisy for short rows; check the exact Jaccard above a wide margin
    a, b = likely_pairs(first, second, n, sh.sampled, threshold - 0.3)
    if not len(a):
        return a, b, np.zeros(0)
    jac = jaccard(sh.text, a, b)
    close = jac >= threshold
    return a[close], b[close], jac[close]


def _sorted_pairs(sample: np.ndarray, bits: int, keep: np.ndarray, max_bucket: int) -> np.ndarray:
    pairs = shared_pairs(sample, bits, keep, max_bucket)
    pairs.sort()
    return pairs


def jaccard(
    text: Callable[[np.ndarray], pa.ChunkedArray], a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of rows a[k] and b[k] (`text` gives rows)."""
    involved = np.unique(np.concatenate([a, b]))
    h, size = row_shingles(text(involved))
    start = np.cumsum(size) - size
    ia, ib = np.searchsorted(involved, a), np.searchsorted(involved, b)
    common = common_counts(h, start, size, ia, ib)
    return common / np.maximum(size[ia] + size[ib] - common, 1)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of `n` nodes given undirected edges (a, b)."""
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
