"""Labelling rounds: `dataset.path` as a list of files or globs, read as one input.

Files are read in the order given (a glob's matches in natural order: round2 before round10), so a
later file is a later round. Each file's format comes from its suffix (a mix of CSV, JSONL, Parquet
and workbooks is fine; an unknown suffix reads as `dataset.format`), and each row keeps the file it
came from (`_file`: the card lists the files, error messages and rejects name them).

A paragraph labelled again in a later round replaces the earlier label: an earlier row is dropped
when a later file has a row with the same id (when `columns.id` is mapped) or the same normalised
text under the same target. The card counts the overridden rows and shows examples; a disagreement
inside one file is still a label conflict (`dedup.conflicts`).
"""

from __future__ import annotations

import glob
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.dedup import normalized
from stance.data.readers import TABLE_SUFFIXES
from stance.data.records import Loaded, hash_bytes, read_bytes
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem

GLOB = re.compile(r"[*?\[]")
EXAMPLES = 5


def is_multi(cfg: DatasetConfig) -> bool:
    """Whether `dataset.path` names rounds (a list, or a glob) rather than one file."""
    return not isinstance(cfg.path, str) or bool(GLOB.search(cfg.path))


def _natural(path: Path) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def input_files(cfg: DatasetConfig) -> list[Path]:
    """The files `dataset.path` names, in round order; a pattern matching nothing is an error."""
    patterns = [cfg.path] if isinstance(cfg.path, str) else list(cfg.path)
    files: list[Path] = []
    for pattern in patterns:
        if not GLOB.search(pattern):
            files.append(Path(pattern))
            continue
        found = sorted((Path(p) for p in glob.glob(pattern, recursive=True)), key=_natural)
        found = [p for p in found if p.is_file()]
        if not found:
            fix = "check the pattern (relative to the directory you run from)"
            raise StanceError(problem(f"dataset.path {pattern!r}", "no file matches", fix))
        files += found
    seen = set()
    for f in files:
        if f.resolve() in seen:
            fix = "name each file once in dataset.path"
            raise StanceError(problem(str(f), "this file is named twice in dataset.path", fix))
        seen.add(f.resolve())
    return files


def file_config(cfg: DatasetConfig, path: Path) -> DatasetConfig:
    """`cfg` for one file of the list: its own path and the format its suffix says."""
    fmt = TABLE_SUFFIXES.get(path.suffix.lower(), cfg.format)
    same = fmt == cfg.format
    return replace(
        cfg,
        path=str(path),
        format=fmt,
        delimiter=cfg.delimiter if same else None,
        sheet=cfg.sheet if same else None,
    )


def files_hash(files: list[Path]) -> str:
    """One content hash of the files, in order (a reordered list is other rounds)."""
    return hash_bytes(*(part for f in files for part in (f.name.encode(), read_bytes(f))))


def concat(parts: list[Loaded], files: list[Path]) -> Loaded:
    """The files' tables as one `Loaded`, each row's file in `_file`."""
    fields = [c for c in parts[0].table.column_names if c != "_line"]
    tables = []
    for k, part in enumerate(parts):
        t = part.table
        columns = {c: pc.cast(t[c], pa.string()) for c in fields}
        columns["_line"] = pc.cast(t["_line"], pa.int64())
        columns["_file"] = pa.array(np.full(t.num_rows, k, np.int32))
        tables.append(pa.table(columns))
    table = pa.concat_tables(tables).combine_chunks()
    rejects = [r for part in parts for r in part.rejects]
    unit = parts[0].unit if len({p.unit for p in parts}) == 1 else "line/row"
    n_input = sum(p.n_input for p in parts)
    extra = {
        "files": [{"path": str(f), "rows": p.n_input} for f, p in zip(files, parts, strict=True)]
    }
    return Loaded(table, [str(f) for f in files], unit, n_input, files_hash(files), rejects, extra)


def latest_labels(loaded: Loaded, cfg: DatasetConfig) -> tuple[Loaded, dict]:
    """Drop every row that a later file of the rounds labels again (same id, or same text under
    one target); other inputs (one file, a TweetEval folder) come back as they are."""
    t = loaded.table
    n = t.num_rows
    report = {"overridden": 0, "label_changed": 0, "examples": []}
    if not is_multi(cfg) or "_file" not in t.column_names or not n:
        return loaded, report
    file = t["_file"].to_numpy(zero_copy_only=False)
    later = np.zeros(n, bool)
    keys = []
    if "id" in t.column_names:
        keys.append(pc.fill_null(t["id"], ""))
    text = normalized(pc.fill_null(t["text"], "")) if "text" in t.column_names else None
    if text is not None:
        target = t["target"] if "target" in t.column_names else None
        keys.append(text if target is None else _join(pc.fill_null(target, ""), text))
    replaced_by = np.full(n, -1, np.int64)
    for key in keys:
        values = np.asarray(key.to_pylist(), dtype=object)
        last: dict[str, int] = {}
        for i in np.argsort(file, kind="stable"):  # rows in round order: the last one wins
            if values[i]:
                last[values[i]] = int(i)
        winner = np.array([last.get(v, -1) if v else -1 for v in values])
        over = (winner >= 0) & (file[np.maximum(winner, 0)] > file)
        replaced_by[over & ~later] = winner[over & ~later]
        later |= over
    if not later.any():
        return loaded, report
    labels = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(t["label"], ""))).to_pylist()
    dropped = np.flatnonzero(later)
    changed = [i for i in dropped if labels[i] != labels[replaced_by[i]]]
    report["overridden"] = len(dropped)
    report["label_changed"] = len(changed)
    report["examples"] = [
        {
            "earlier": loaded.where(int(i)),
            "later": loaded.where(int(replaced_by[i])),
            "label": [labels[i], labels[replaced_by[i]]],
        }
        for i in (changed or list(dropped))[:EXAMPLES]
    ]
    kept = replace(loaded, table=t.filter(pa.array(~later)))
    return kept, report


def _join(target: pa.ChunkedArray, text: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(target, text, "\x1f")


def round_info(cfg: DatasetConfig, loaded: Loaded) -> dict:
    """The card's `round`: its name, index (input files - 1) and the files with their rows."""
    files = loaded.extra.get("files") or [{"path": f} for f in loaded.files[:1]]
    index = len(files) - 1 if is_multi(cfg) else 0
    return {"name": cfg.round or f"round {index}", "index": index, "files": files}
