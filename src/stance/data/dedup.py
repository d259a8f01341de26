"""Exact duplicates (after NFKC, lower-casing and whitespace collapse), label conflicts, near-dups.

Stance is relative to a target, so when the dataset has one, duplicates are keyed on (target, text):
the same text under two targets is two examples, and a label conflict exists only within a target.
Leakage is about the text alone: rows with the same text, or near-duplicate texts, under any
targets are linked so that the split keeps them on one side.

Near-duplicates: the Jaccard similarity of the rows' sets of word bigrams (words: runs of letters
and digits of the normalised text). Candidates come from MinHash LSH (rensa), `lsh_bands` bands
of `lsh_rows` hashes: a pair at Jaccard 0.7 becomes a candidate with probability 0.99 with the
defaults (24 x 5), at 0.8 with 0.99998. Every candidate's exact Jaccard decides.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rensa import RMinHash, RMinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from stance.data.schema import DedupConfig
from stance.errors import StanceError, problem

EXAMPLES = 5
SEED = 0  # of the MinHash permutations: the same input gives the same candidates
PUNCTUATION = r"[[:punct:]“”‘’«»—–…]+"  # between words (ASCII classes: 7x faster than \p{P})
Pairs = tuple[np.ndarray, np.ndarray]


@dataclass
class Dedup:
    """Which rows survive, their exact-text group, the pairs that must share a split, reports."""

    keep: np.ndarray  # (n,) bool
    text_group: np.ndarray  # (n,) the first row with the same normalised text, under any target
    together: Pairs  # rows (a < b, kept) that must share a split: near or same-text copies
    near: Pairs  # near-duplicate pairs among kept rows (a subset of `together`)
    counts: dict[str, int] = field(default_factory=dict)
    report: dict = field(default_factory=dict)


def normalized(texts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """NFKC, lower case, runs of white space as one space, trimmed: what exact dedup compares."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    text = pc.utf8_lower(texts)
    # only rows with other white space than single inner spaces are split and joined (finding
    # them costs a quarter of splitting every row; a \s+ regex replace, 3x more)
    spaced = pc.match_substring_regex(text, r"[\t\n\r\f\v]|  |^ | $")
    if pc.any(spaced).as_py():
        joined = pc.binary_join(pc.ascii_split_whitespace(text.filter(spaced)), " ")
        text = pc.replace_with_mask(text, spaced, joined)
    # non-ASCII rows go through Python: pyarrow 25's utf8_normalize leaves "é" decomposed, and
    # ascii_split_whitespace knows only ASCII spaces
    odd = pc.invert(pc.string_is_ascii(texts))
    if pc.any(odd).as_py():
        rows = texts.filter(odd).to_pylist()
        fixed = [" ".join(unicodedata.normalize("NFKC", t).lower().split()) for t in rows]
        text = pc.replace_with_mask(text, odd, pa.array(fixed, pa.string()))
    return text


def first_equal(values: pa.Array) -> np.ndarray:
    """Per row, the index of the first row with an equal value."""
    codes = pc.dictionary_encode(values).indices.to_numpy()
    # codes are numbered in order of first appearance: code k first appears where the running
    # maximum reaches k (no sort)
    new = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    return new[codes]


def deduplicate(
    table: pa.Table,
    label: np.ndarray,
    cfg: DedupConfig,
    labels: list[str],
    where: Callable[[int], str],
) -> Dedup:
    """Collapse exact duplicates, resolve label conflicts, find (and maybe drop) near-duplicates."""
    norm = normalized(table["text"])
    text_group = first_equal(norm)
    target = table["target"].combine_chunks() if "target" in table.column_names else None
    key = norm if target is None else pc.binary_join_element_wise(target, norm, "\x1f")
    keep, counts, report = _collapse(first_equal(key), label, cfg, labels, where)
    a, b, jac = near_pairs(norm, keep, cfg)
    found, dropped = len(a), 0
    if cfg.action == "drop" and found:
        same = np.ones(found, bool) if target is None else _equal(target, a, b)
        drop = _all_but_first(len(keep), a[same], b[same])
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
    # the same text kept under several targets: each copy linked to the group's first kept row
    rows = np.flatnonzero(keep)
    head = np.full(len(keep), len(keep))
    np.minimum.at(head, text_group[rows], rows)
    copies = rows[head[text_group[rows]] != rows]
    report["exact"]["texts_under_several_targets"] = len(np.unique(text_group[copies]))
    linked = (np.concatenate([a, head[text_group[copies]]]), np.concatenate([b, copies]))
    if cfg.action == "report":
        linked = (head[text_group[copies]], copies)
    return Dedup(keep, text_group, linked, (a, b), counts, report)


def _equal(values: pa.Array, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return pc.equal(values.take(pa.array(a)), values.take(pa.array(b))).to_numpy(
        zero_copy_only=False
    )


def _all_but_first(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rows of every connected component of edges (a, b) except its first (lowest) row."""
    comp = components(n, a, b)
    head = np.full(comp.max() + 1, n)
    np.minimum.at(head, comp[a], a)
    nodes = np.unique(np.concatenate([a, b]))
    return nodes[head[comp[nodes]] != nodes]


def _collapse(
    group: np.ndarray,
    label: np.ndarray,
    cfg: DedupConfig,
    labels: list[str],
    where: Callable[[int], str],
) -> tuple[np.ndarray, dict[str, int], dict]:
    n = len(group)
    keep = np.ones(n, dtype=bool)
    copies = np.flatnonzero(group != np.arange(n))  # rows whose key an earlier row has
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


def word_bigrams(norm: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row its word bigrams as uint64 (two word ids), flat, and each row's start (n + 1).

    Words: the normalised text split at spaces and punctuation.
    """
    spaced = pc.utf8_trim_whitespace(pc.replace_substring_regex(norm, PUNCTUATION, " "))
    words = pc.ascii_split_whitespace(spaced)
    offsets = words.offsets.to_numpy().astype(np.int64)
    offsets -= offsets[0]
    ids = pc.dictionary_encode(words.flatten()).indices.to_numpy().astype(np.uint64)
    last = np.zeros(len(ids) + 1, bool)
    last[offsets[1:] - 1] = True  # a bigram never spans two rows (a row of no word: no effect)
    start = np.flatnonzero(~last[:-2]) if len(ids) > 1 else np.zeros(0, np.int64)
    size = np.maximum(np.diff(offsets) - 1, 0)
    bounds = np.concatenate([[0], np.cumsum(size)])
    return (ids[start] << np.uint64(32)) | ids[start + 1], bounds


def near_pairs(
    norm: pa.Array, keep: np.ndarray, cfg: DedupConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of kept rows (a < b) whose word-bigram Jaccard is at least `cfg.threshold`."""
    grams, bounds = word_bigrams(norm)
    size = np.diff(bounds)
    rows = np.flatnonzero(keep & (size > 0))
    empty = np.zeros(0, np.int64)
    if len(rows) < 2:
        return empty, empty, np.zeros(0)
    mine = grams[np.repeat(keep, size)]  # the kept rows' bigrams, in row order
    starts = np.concatenate([[0], np.cumsum(size[rows])]).astype(np.uint64)
    num_perm = cfg.lsh_bands * cfg.lsh_rows
    # one pass over every row flags those that share a band with another row (all in rensa)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(mine, starts, num_perm, SEED)
    flags = RMinHashLSH(cfg.threshold, num_perm, cfg.lsh_bands)
    flagged = rows[np.asarray(flags.query_duplicate_flags_matrix_one_shot(matrix), bool)]
    # the flagged few: one MinHash each, indexed and queried for their candidates
    raw = [grams[bounds[r] : bounds[r + 1]].tobytes() for r in flagged]
    tokens = [[t[k : k + 8] for k in range(0, len(t), 8)] for t in raw]
    hashes = RMinHash.from_token_sets(tokens, num_perm, SEED)
    index = RMinHashLSH(cfg.threshold, num_perm, cfg.lsh_bands)
    index.insert_many(hashes)
    a, b = [], []
    for i, h in enumerate(hashes):
        found = sorted(j for j in index.query(h) if j > i)[: cfg.max_bucket]
        a += [i] * len(found)
        b += found
    a, b = flagged[np.asarray(a, np.int64)], flagged[np.asarray(b, np.int64)]
    jac = np.array([_jaccard(grams, bounds, i, j) for i, j in zip(a, b, strict=True)])
    close = jac >= cfg.threshold if len(jac) else np.zeros(0, bool)
    return a[close], b[close], jac[close]


def _jaccard(grams: np.ndarray, bounds: np.ndarray, i: int, j: int) -> float:
    x = np.unique(grams[bounds[i] : bounds[i + 1]])
    y = np.unique(grams[bounds[j] : bounds[j + 1]])
    common = len(np.intersect1d(x, y, assume_unique=True))
    return common / (len(x) + len(y) - common)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of `n` nodes given undirected edges (a, b)."""
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
