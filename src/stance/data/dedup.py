"""Exact duplicates (after NFKC, lower-casing and whitespace collapse), label conflicts, near-dups.

Stance is relative to a target, so when the dataset has one, duplicates are keyed on (target, text):
the same text under two targets is two examples, and a label conflict exists only within a target.
Leakage is about the text alone: rows with the same text, or near-duplicate texts, under any
targets are linked so that the split keeps them on one side.

Near-duplicates: the Jaccard similarity of the rows' sets of word bigrams (stance.data.near).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from stance.data.near import near_pairs, word_bigrams  # noqa: F401  (word_bigrams: re-exported)
from stance.data.schema import DedupConfig
from stance.errors import StanceError, problem

EXAMPLES = 5
MAX_GROUP_SHARE = 0.2  # one group of linked documents above this share of the rows stops a split
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
    predefined: bool = False,
) -> Dedup:
    """Collapse exact duplicates, resolve label conflicts, find (and maybe drop) near-duplicates.

    `predefined`: the splits are given (a fixed benchmark), so a conflict's message offers to
    keep the rows as they are (dedup.conflicts=keep) rather than to change the benchmark.
    """
    norm = normalized(table["text"])
    text_group = first_equal(norm)
    target = table["target"].combine_chunks() if "target" in table.column_names else None
    key = norm if target is None else pc.binary_join_element_wise(target, norm, "\x1f")
    group = first_equal(key)
    keep, counts, report = _collapse(group, label, cfg, labels, where, target, predefined)
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
    report["largest_group"] = largest_group(table["doc_id"], keep, linked, where)
    return Dedup(keep, text_group, linked, (a, b), counts, report)


def largest_group(
    doc_id: pa.ChunkedArray | pa.Array, keep: np.ndarray, linked: Pairs, where: Callable[[int], str]
) -> dict:
    """The most kept rows that must share a split: documents joined by `linked` rows (a grouped
    or time split's unit), with the most rows joined by links alone (a random split's unit)."""
    rows = np.flatnonzero(keep)
    a, b = linked
    if isinstance(doc_id, pa.ChunkedArray):
        doc_id = doc_id.combine_chunks()
    doc = first_equal(doc_id)
    unit = components(len(keep), np.concatenate([a, doc[rows]]), np.concatenate([b, rows]))
    size = np.bincount(unit[rows])
    biggest = int(size.argmax()) if len(size) else 0
    inside = np.flatnonzero(unit[a] == biggest)[:EXAMPLES]
    chained = np.bincount(components(len(keep), a, b)[rows]) if len(rows) else np.zeros(1)
    return {
        "rows": int(size.max(initial=0)),
        "share": round(float(size.max(initial=0) / max(len(rows), 1)), 4),
        "documents": len(np.unique(doc[rows[unit[rows] == biggest]])),
        "linked_rows": int(chained.max()),
        "examples": [{"a": where(int(a[k])), "b": where(int(b[k]))} for k in inside],
    }


def oversized_group(
    unit: np.ndarray, doc: np.ndarray, edges: Pairs, ids: pa.ChunkedArray, where: str
) -> str | None:
    """Why the largest unit of a split (documents joined by `edges`) cannot be placed, when it
    holds more than MAX_GROUP_SHARE of the rows and more than one document; else None."""
    size = np.bincount(unit)
    biggest = int(size.argmax()) if len(size) else 0
    if not len(size) or size[biggest] <= MAX_GROUP_SHARE * len(unit):
        return None
    members = unit == biggest
    documents = len(np.unique(doc[members]))
    if documents < 2:  # one big document is the user's own grouping
        return None
    a, b = edges
    inside = np.flatnonzero(members[a])[:EXAMPLES]
    first = ids.take(pa.array(a[inside])).to_pylist()
    pairs = ", ".join(
        f"{x} ~ {y}" for x, y in zip(first, ids.take(pa.array(b[inside])).to_pylist(), strict=True)
    )
    return problem(
        where,
        f"{size[biggest]} of {len(unit)} rows ({size[biggest] / len(unit):.0%}) form one group "
        f"that must stay in one split: {documents} documents joined into a chain by "
        f"near-duplicates (dedup.action=same_split) or by the same text under several targets, "
        f"e.g. the rows (ids) {pairs}; a group over {MAX_GROUP_SHARE:.0%} of the rows decides "
        "the splits by itself (wherever it lands, it can leave another split empty)",
        "raise dataset.dedup.threshold (e.g. 0.85: only closer copies are linked), or set "
        "dataset.dedup.action=drop (keep the first row of each near-duplicate group) or "
        "dataset.dedup.action=report (count them, let them fall into any split)",
    )


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
    target: pa.Array | None,
    predefined: bool,
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
        out = {"rows": [where(r) for r in rows], "labels": [labels[x] for x in label[rows]]}
        return out if target is None else {**out, "target": target[rows[0]].as_py()}

    if conflicts and cfg.exact == "collapse" and cfg.conflicts == "error":
        raise StanceError(_conflict_message(describe(min(conflicts)), predefined))
    resolved = cfg.exact == "collapse" and cfg.conflicts != "keep"
    for rows in conflicts if resolved else []:
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
            "rows_kept": sum(map(len, conflicts)) if cfg.conflicts == "keep" else 0,
            "examples": [describe(rows) for rows in conflicts[:EXAMPLES]],
        },
    }
    return keep, counts, report


def _conflict_message(conflict: dict, predefined: bool) -> str:
    rows = zip(conflict["rows"], conflict["labels"], strict=True)
    pairs = ", ".join(f"{w} ({lab})" for w, lab in rows)
    under = f" under target {conflict['target']!r}" if "target" in conflict else ""
    fix = "fix the labels, or set dataset.dedup.conflicts=drop (drop them all) or =majority"
    if predefined:  # dropping or merging rows would change the benchmark's own splits
        fix = (
            "the split is predefined (a fixed benchmark): keep the rows as they are with "
            "dataset.dedup.conflicts=keep (the card counts them; dataset.dedup.exact=report also "
            "keeps agreeing copies), or fix the labels"
        )
    what = f"the same text (after normalisation){under} has different labels: {pairs}"
    return problem(conflict["rows"][0], what, fix)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of `n` nodes given undirected edges (a, b)."""
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
