"""Check every row (text, label, id, date, split), map labels, and account for each rejected row."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.dedup import first_equal
from stance.data.kernels import blank_rows, buffers, hash_rows
from stance.data.loaded import Loaded, pick, reject
from stance.data.parallel import run_all
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem

SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "val": "validation",
    "valid": "validation",
    "dev": "validation",
    "test": "test",
}
# reason code -> (what was wrong, how to fix it); {} fields are filled per row
REASONS = {
    1: ("empty text", "text is missing or empty", "fill in the text or delete the row"),
    2: ("missing label", "label is missing", "give the row a label: one of {labels}"),
    3: (
        "unknown label",
        "unknown label {label!r}",
        "map it in dataset.label_map (to one of {labels}) or fix it",
    ),
    4: (
        "missing id",
        "id is missing",
        "give every row an id, or set dataset.columns.id=null to generate them",
    ),
    5: ("bad date", "date {date!r} is not an ISO date YYYY-MM-DD", "write it as YYYY-MM-DD"),
    6: ("missing date", "date is missing", "split.strategy=time needs a date on every row"),
    7: (
        "bad split",
        "split {split!r} is not train, validation or test",
        "use train, validation (val) or test",
    ),
    8: ("duplicate id", "duplicate id {id!r}; it is also at {other}", "give every row a unique id"),
}


@dataclass
class Validated:
    """Which rows passed, their label indices, and what was excluded or rejected."""

    # every input row: our fields (ids generated, dates trimmed), `_line`, maybe `_file`;
    # `kept_table` gives the kept rows without their text
    table: pa.Table
    label: np.ndarray  # int64 index into cfg.labels, per kept row
    excluded: dict[str, int]  # canonical label not in cfg.labels -> rows
    rejects: list[dict]
    # the text of every input row and which rows are kept: the text is copied only once, a piece
    # at a time while shingling (see dedup.deduplicate's mask)
    text: pa.ChunkedArray
    keep: np.ndarray


def _label_codes(raw: pa.ChunkedArray, cfg: DatasetConfig) -> tuple[np.ndarray, list[str]]:
    """Per row: index into labels (>=0), -1 missing, -2 unknown, -3-k excluded canonical k."""
    mapping = {k.strip().lower(): v for k, v in cfg.label_map.items()}
    mapping.update({lab.lower(): lab for lab in cfg.labels})
    distinct, index = _distinct(raw)
    uniques = distinct.to_pylist()
    excluded_names: list[str] = []
    codes = []
    for u in uniques:
        canonical = None if u is None else mapping.get(u.strip().lower())
        if u is None or not u.strip():
            codes.append(-1)
        elif canonical is None:
            codes.append(-2)
        elif canonical in cfg.labels:
            codes.append(cfg.labels.index(canonical))
        else:
            if canonical not in excluded_names:
                excluded_names.append(canonical)
            codes.append(-3 - excluded_names.index(canonical))
    return np.asarray(codes, np.int64)[index], excluded_names


def _distinct(values: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct values (null among them) and per row the index of its value: one hash pass."""
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    if not encoded.num_chunks:
        return pa.array([], values.type), np.zeros(0, np.int64)
    index = [c.indices.to_numpy().astype(np.int64) for c in encoded.chunks]
    return encoded.chunks[-1].dictionary, np.concatenate(index)  # the chunks share it


def _blank(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Missing, empty, or no visible character (only white space and control characters)."""
    out = [np.zeros(0, bool)]
    for arr in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        offsets, data = buffers(arr)
        found = blank_rows(data, offsets)
        for i in np.flatnonzero(found == 2).tolist():  # starts with a non-ASCII character: rare
            found[i] = not _visible(arr[i].as_py())
        blank = found.astype(bool)
        if arr.null_count:
            blank |= arr.is_null().to_numpy(zero_copy_only=False)
        out.append(blank)
    return np.concatenate(out)


def _visible(text: str) -> bool:
    return any(ch.isprintable() and not ch.isspace() for ch in unicodedata.normalize("NFKC", text))


def validate(loaded: Loaded, cfg: DatasetConfig) -> Validated:
    """Map labels, reject bad rows (or raise on the first one), generate missing ids/doc ids."""
    t = loaded.table
    n = t.num_rows
    if "id" not in t.column_names:
        ids = pc.binary_join_element_wise(f"{cfg.name}-", pc.cast(t["_line"], pa.string()), "")
        t = t.append_column("id", ids)
    has_date = "date" in t.column_names
    # independent checks of different columns: pyarrow kernels release the GIL, so they overlap
    (codes, excluded_names), blank_text, blank_id, dates, id_hashes = run_all(
        partial(_label_codes, t["label"], cfg),
        partial(_blank, t["text"]),
        partial(_blank, t["id"]),
        partial(_dates, t["date"]) if has_date else lambda: None,
        partial(_hashes, t["id"]),
    )
    reason = np.zeros(n, np.int8)
    reason[codes == -2] = 3
    reason[codes == -1] = 2
    reason[blank_text] = 1
    reason[(reason == 0) & blank_id] = 4
    if has_date:
        day, invalid, blank = dates
        reason[(reason == 0) & invalid & ~blank] = 5
        if cfg.split.strategy == "time":
            reason[(reason == 0) & blank] = 6
        t = t.set_column(t.column_names.index("date"), "date", day)
    if "split" in t.column_names:
        t, reason = _check_splits(t, reason)
    other = _duplicate_ids(t["id"], id_hashes, reason)
    reason[(reason == 0) & (other >= 0)] = 8
    rejects = list(loaded.rejects)
    bad = np.flatnonzero(reason)
    if len(bad):
        first_only = cfg.on_bad_rows != "skip"
        rejects += _rejects(loaded, t, bad, reason, other, cfg, raise_first=first_only)
    keep = (reason == 0) & (codes >= 0)
    excluded = {
        name: int(np.count_nonzero((reason == 0) & (codes == -3 - k)))
        for k, name in enumerate(excluded_names)
    }
    return Validated(t, codes[keep], excluded, rejects, t["text"], keep)


def kept_table(valid: Validated) -> pa.Table:
    """The kept rows without their text, one chunk per column; a blank doc_id becomes the id."""
    # one chunk per column: later steps touch every chunk (the text column is left as it is)
    t = valid.table.drop_columns("text").filter(pa.array(valid.keep)).combine_chunks()
    if "doc_id" not in t.column_names:
        return t.append_column("doc_id", t["id"])
    blank_doc = _blank(t["doc_id"])
    if blank_doc.any():
        doc = pc.if_else(pa.array(blank_doc), t["id"], t["doc_id"])
        t = t.set_column(t.column_names.index("doc_id"), "doc_id", doc)
    return t


def _dates(date: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray, np.ndarray]:
    """The first 10 characters of each date, and per row: not an ISO day, blank."""
    # dates repeat a lot: check each distinct value once, then map back
    distinct, at = _distinct(date)
    day = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(distinct), 0, 10)
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    invalid = pc.is_null(parsed).to_numpy(zero_copy_only=False)[at]
    blank = _blank(distinct)[at]
    # the column as it is when no date needed trimming (the usual case): no copy of 1M dates
    same = pc.all(pc.equal(day, distinct)).as_py() is not False
    return date if same else pc.take(day, pa.array(at)), invalid, blank


def _check_splits(t: pa.Table, reason: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    raw = pc.utf8_lower(pc.utf8_trim_whitespace(t["split"]))
    keys = pa.array(list(SPLIT_NAMES))
    names = pc.take(pa.array(list(SPLIT_NAMES.values())), pc.index_in(raw, value_set=keys))
    reason[(reason == 0) & pc.is_null(names).to_numpy(zero_copy_only=False)] = 7
    return t.set_column(t.column_names.index("split"), "split", names), reason


def _hashes(ids: pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash per id: equal ids, equal hashes."""
    out = [np.zeros(0, np.uint64)]
    for chunk in ids.chunks:
        offsets, data = buffers(chunk)
        out.append(hash_rows(data, offsets))
    return np.concatenate(out)


def _duplicate_ids(ids: pa.ChunkedArray, hashes: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Per row: the index of the earlier valid row (reason 0) with the same id, or -1."""
    other = np.full(len(reason), -1, np.int64)
    valid = np.flatnonzero(reason == 0)
    first = first_equal(hashes[valid], lambda rows: pick(ids, valid[rows]).to_pylist())
    repeat = first != np.arange(len(valid))
    other[valid[repeat]] = valid[first[repeat]]
    return other


def _rejects(
    loaded: Loaded,
    t: pa.Table,
    bad: np.ndarray,
    reason: np.ndarray,
    other: np.ndarray,
    cfg: DatasetConfig,
    raise_first: bool,
) -> list[dict]:
    raw = loaded.table
    fields = [c for c in raw.column_names if not c.startswith("_")]
    out = []
    for i in bad[:1] if raise_first else bad:
        record = {c: raw[c][int(i)].as_py() for c in fields}
        record.setdefault("id", t["id"][int(i)].as_py())
        o = int(other[i])
        fill = {
            "labels": cfg.labels,
            "label": record.get("label"),
            "date": record.get("date"),
            "split": record.get("split"),
            "id": record.get("id"),
            "other": loaded.where(o) if o >= 0 else "",
        }
        kind, what, fix = REASONS[int(reason[i])]
        what, fix = what.format(**fill), fix.format(**fill)
        if raise_first:
            raise StanceError(problem(loaded.where(int(i)), what, fix))
        out.append(reject(loaded.where(int(i)), kind, what, record))
    return out
