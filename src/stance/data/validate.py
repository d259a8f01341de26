"""Check every row (text, label, id, target, date, split), map labels, account for rejected rows.

Policies for cells that may be empty (counted in the card under `rows.blank`):
- `doc_id` empty: the row is its own document (its id becomes its doc_id).
- `target` empty (when a target column is mapped): the row is rejected ("missing target"), since
  stance is relative to a target.
- `date` empty: kept without a date, except with split.strategy=time (rejected: "missing date");
  a date that `date_format` does not parse is rejected ("bad date"); dates are stored as YYYY-MM-DD.
Kept rows that all have one label stop the build: no classifier trains on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.dedup import first_equal
from stance.data.records import Loaded, reject
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
# reason code -> (short name, what was wrong, how to fix it); {} fields are filled per row
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
    5: (
        "bad date",
        "date {date!r} does not match dataset.date_format {date_format!r}",
        "write it as in date_format, or set dataset.date_format (e.g. '%d/%m/%Y')",
    ),
    6: ("missing date", "date is missing", "split.strategy=time needs a date on every row"),
    7: (
        "bad split",
        "split {split!r} is not train, validation or test",
        "use train, validation (val) or test",
    ),
    8: ("duplicate id", "duplicate id {id!r}; it is also at {other}", "give every row a unique id"),
    9: (
        "missing target",
        "target is missing (stance is relative to a target)",
        "fill in the target, or set dataset.columns.target=null if there is none",
    ),
}
VISIBLE = r"[^\s\p{Z}\p{Cc}\p{Cf}]"  # a character that is not space, separator or control


@dataclass
class Validated:
    """The kept rows (our fields, ids generated, dates as YYYY-MM-DD) and what was left out."""

    table: pa.Table  # kept rows, one chunk per column, with `_line` (and `_file`)
    label: np.ndarray  # int64 index into cfg.labels, per kept row
    excluded: dict[str, int]  # canonical label not in cfg.labels -> rows
    rejects: list[dict]
    blank: dict[str, int]  # kept rows whose doc_id or date was empty (see the module doc)
    rows: np.ndarray  # per kept row, its row number in the loaded table (for `Loaded.where`)


def _distinct(values: pa.ChunkedArray) -> tuple[list, np.ndarray]:
    """The distinct values (None among them) and per row the index of its value."""
    encoded = pc.dictionary_encode(values.combine_chunks(), null_encoding="encode")
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy().astype(np.int64)


def _label_codes(raw: pa.ChunkedArray, cfg: DatasetConfig) -> tuple[np.ndarray, list[str]]:
    """Per row: index into labels (>=0), -1 missing, -2 unknown, -3-k excluded canonical k."""
    mapping = {k.strip().lower(): v for k, v in cfg.label_map.items()}
    mapping.update({lab.lower(): lab for lab in cfg.labels})
    uniques, index = _distinct(raw)
    excluded: list[str] = []
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
            excluded += [] if canonical in excluded else [canonical]
            codes.append(-3 - excluded.index(canonical))
    return np.asarray(codes, np.int64)[index], excluded


def blank(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Missing, empty, or no visible character (only white space and control characters)."""
    visible = pc.match_substring_regex(values, VISIBLE)
    return ~pc.fill_null(visible, False).to_numpy(zero_copy_only=False)


def _dates(date: pa.ChunkedArray, fmt: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Each date as YYYY-MM-DD (null when blank or invalid), and per row: invalid, blank."""
    # dates repeat a lot: each distinct value is parsed once
    encoded = pc.dictionary_encode(date.combine_chunks(), null_encoding="encode")
    at = pa.array(encoded.indices.to_numpy().astype(np.int64))
    # an ISO timestamp keeps its day: with the default format only the first 10 characters count
    trimmed = pc.utf8_trim_whitespace(encoded.dictionary)
    day = pc.utf8_slice_codeunits(trimmed, 0, 10) if fmt == "%Y-%m-%d" else trimmed
    parsed = pc.strptime(day, format=fmt, unit="s", error_is_null=True)
    empty = blank(encoded.dictionary)
    invalid = pc.is_null(parsed).to_numpy(zero_copy_only=False) & ~empty
    iso = pc.strftime(parsed, format="%Y-%m-%d").take(at)
    return iso, invalid[at.to_numpy()], empty[at.to_numpy()]


def _first_of_each(values: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray:
    """Per row in `rows`: the first row in `rows` with an equal value."""
    return rows[first_equal(values.take(pa.array(rows)).combine_chunks())]


def validate(loaded: Loaded, cfg: DatasetConfig) -> Validated:
    """Map labels, reject bad rows (or raise on the first one), generate missing ids/doc ids."""
    t = loaded.table
    if "id" not in t.column_names:
        t = t.append_column("id", _generated_ids(loaded, cfg.name))
    codes, excluded_names = _label_codes(t["label"], cfg)
    reason = np.zeros(t.num_rows, np.int8)
    reason[codes == -2] = 3
    reason[codes == -1] = 2
    reason[blank(t["text"])] = 1
    reason[(reason == 0) & blank(t["id"])] = 4
    if "target" in t.column_names:
        reason[(reason == 0) & blank(t["target"])] = 9
    counts = {}
    if "date" in t.column_names:
        day, invalid, empty = _dates(t["date"], cfg.date_format)
        reason[(reason == 0) & invalid] = 5
        if cfg.split.strategy == "time":
            reason[(reason == 0) & empty] = 6
        counts["date"] = int(np.count_nonzero((reason == 0) & empty))
        t = t.set_column(t.column_names.index("date"), "date", day)
    if "split" in t.column_names:
        raw = pc.utf8_lower(pc.utf8_trim_whitespace(t["split"]))
        keys = pa.array(list(SPLIT_NAMES))
        names = pc.take(pa.array(list(SPLIT_NAMES.values())), pc.index_in(raw, value_set=keys))
        reason[(reason == 0) & pc.is_null(names).to_numpy(zero_copy_only=False)] = 7
        t = t.set_column(t.column_names.index("split"), "split", names)
    valid = np.flatnonzero(reason == 0)
    other = np.full(t.num_rows, -1, np.int64)
    other[valid] = _first_of_each(t["id"], valid)
    duplicate = (other >= 0) & (other != np.arange(t.num_rows))
    reason[duplicate] = 8
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
    _refuse_one_label(codes[keep], t["label"], excluded, cfg)
    kept = t.filter(pa.array(keep)).combine_chunks()
    if "doc_id" not in kept.column_names:
        kept = kept.append_column("doc_id", kept["id"])
    else:
        no_doc = blank(kept["doc_id"])
        counts["doc_id"] = int(np.count_nonzero(no_doc))
        doc = pc.if_else(pa.array(no_doc), kept["id"], kept["doc_id"])
        kept = kept.set_column(kept.column_names.index("doc_id"), "doc_id", doc)
    rows = np.flatnonzero(keep)
    return Validated(kept, codes[keep], excluded, rejects, counts, rows)


def _refuse_one_label(
    codes: np.ndarray, raw: pa.ChunkedArray, excluded: dict[str, int], cfg: DatasetConfig
) -> None:
    """Stop when every kept row has the same label: no classifier trains on one class."""
    present = np.unique(codes)
    if len(present) != 1:
        return
    seen = pc.value_counts(raw.combine_chunks()).to_pylist()
    seen.sort(key=lambda c: -c["counts"])
    listed = ", ".join(f"{c['values']!r} {c['counts']}" for c in seen[:6])
    what = (
        f"all {len(codes)} kept rows have the label {cfg.labels[int(present[0])]!r}: a classifier "
        f"needs at least two labels (raw labels in the input: {listed}"
        + (f"; left out as not in dataset.labels: {excluded}" if any(excluded.values()) else "")
        + ")"
    )
    fix = (
        f"label rows of another of {list(cfg.labels)}, or map the raw labels to them in "
        "dataset.label_map (matched ignoring case)"
    )
    raise StanceError(problem(f"dataset '{cfg.name}' ({cfg.path})", what, fix))


def _generated_ids(loaded: Loaded, name: str) -> pa.ChunkedArray:
    """`<name>-<line>`; rows of the second and later files of a list: `<name>-<file stem>-<line>`
    (the first file's ids do not change when a round is added)."""
    t = loaded.table
    prefix = pa.array([f"{name}-"] * t.num_rows)
    if "_file" in t.column_names and len(loaded.files) > 1:
        stems = [f"{name}-"] + [f"{name}-{Path(f).stem}-" for f in loaded.files[1:]]
        prefix = pc.take(pa.array(stems), t["_file"])
    return pc.binary_join_element_wise(prefix, pc.cast(t["_line"], pa.string()), "")


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
            "date_format": cfg.date_format,
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
