"""What a reader hands to the builder: string columns named by our fields, plus row locations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from stance.errors import StanceError, problem

# Our field names, in output order; `label` holds the raw label until validation maps it.
FIELDS = ("id", "text", "label", "doc_id", "target", "source", "date", "split")
CHUNK = 100_000  # rows per Arrow chunk of a `Columns`: Python strings are freed as it goes


@dataclass
class Loaded:
    """Rows read from one source: a table of our fields (strings) plus `_line` and maybe `_file`.

    `_line` is the 1-based line (or row, for Parquet) where each row starts; `_file` (int32) indexes
    `files` when rows come from several files. `rejects` are rows the reader itself could not parse.
    """

    table: pa.Table
    files: list[str]
    unit: str  # "line" or "row"
    n_input: int  # every input row, including those rejected while parsing
    input_hash: str
    rejects: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # source-specific counts for the card

    def where(self, i: int) -> str:
        """Human location of table row `i`: ``file, line N``."""
        f = self.table["_file"][i].as_py() if "_file" in self.table.column_names else 0
        return f"{self.files[f]}, {self.unit} {self.table['_line'][i].as_py()}"


class Columns:
    """String columns built row by row, turned into Arrow every CHUNK rows."""

    def __init__(self, fields: list[str]) -> None:
        self.fields, self.rows, self.lines = fields, [], []
        self.chunks: list[pa.RecordBatch] = []

    def add(self, values: list[str | None], line: int) -> None:
        """Append one row (values in `fields` order) that starts at `line`."""
        self.rows.append(values)
        self.lines.append(line)
        if len(self.rows) == CHUNK:
            self._flush()

    def _flush(self) -> None:
        cols = [pa.array(list(c), pa.string()) for c in zip(*self.rows, strict=True)] or [
            pa.array([], pa.string()) for _ in self.fields
        ]
        self.chunks.append(pa.record_batch(cols, names=self.fields))
        self.rows = []

    def finish(self) -> tuple[dict[str, pa.ChunkedArray], list[int]]:
        """The columns by field, and the line of every row."""
        self._flush()
        table = pa.Table.from_batches(self.chunks)
        return {f: table[f] for f in self.fields}, self.lines


# How the user writes a reading setting in the error messages: the dataset config's keys, or
# predict.py's own (`setting_names`) when it reads a table with these readers.
SETTINGS: ContextVar[dict[str, str] | None] = ContextVar("settings", default=None)


def setting(name: str) -> str:
    """``dataset.<name>``, or the name the current caller gives that setting."""
    names = SETTINGS.get()
    return names[name] if names else f"dataset.{name}"


@contextmanager
def setting_names(names: dict[str, str]) -> Iterator[None]:
    """Name the reading settings ``names`` in the error messages raised inside the block."""
    token = SETTINGS.set(names)
    try:
        yield
    finally:
        SETTINGS.reset(token)


def missing_column(path: Path, field: str, column: str, available: list[str]) -> StanceError:
    what = f"column {column!r} (for `{field}`) is not in the file; it has {available}"
    fix = f"set {setting('columns')}.{field} to one of those columns (null if there is none)"
    return StanceError(problem(str(path), what, fix))


def check_header(path: Path, header: list[str], wanted: dict[str, str], delimiter: str) -> None:
    """Every mapped column is in the header; a one-column header names the delimiter it holds."""
    missing = [(f, c) for f, c in wanted.items() if c not in header]
    if not missing:
        return
    if len(header) == 1:
        for sep, name in (("\t", "a tab"), (";", "';'"), ("|", "'|'"), (",", "','")):
            if sep != delimiter and sep in header[0]:
                quoted = f'"{sep}"'  # Hydra's grammar wants it quoted: 'dataset.delimiter=";"'
                key = setting("delimiter")
                fix = f"delimiter: {quoted} in the config ('{key}={quoted}' on the command line)"
                fmt = setting("format")
                fixed = {"\t": f"{fmt}=tsv", ",": f"{fmt}=csv (delimiter: null)"}
                fix = fixed.get(sep, fix)
                what = f"the header is one column split by {name}, not by {delimiter!r}"
                raise StanceError(problem(f"{path}, line 1", what, f"set {fix}"))
    raise missing_column(path, *missing[0], header)


def reject(where: str, kind: str, reason: str, record: object) -> dict:
    """One line of rejects.jsonl; `kind` is the short problem name counted in the card."""
    return {"where": where, "kind": kind, "reason": reason, "record": record}


def read_bytes(path: Path, what: str = "input file") -> bytes:
    """The bytes of an input file, or a StanceError that says which path is missing."""
    with _readable(path, what):
        return path.read_bytes()


@contextmanager
def _readable(path: Path, what: str) -> Iterator[None]:
    """Turn a missing file or a folder into a StanceError that names the path and the setting."""
    try:
        yield
    except FileNotFoundError:
        raise StanceError(
            problem(str(path), f"{what} not found", "check `dataset.path` (relative to the cwd)")
        ) from None
    except IsADirectoryError:
        raise StanceError(
            problem(str(path), f"{what} is a folder", "point `dataset.path` at a file")
        ) from None


def hash_bytes(*parts: bytes) -> str:
    """A content hash of input bytes (BLAKE2b, 128 bit, hex)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p)
    return h.hexdigest()


def bad_utf8(path: str, data: bytes, err: UnicodeDecodeError) -> StanceError:
    """The error for undecodable bytes: file, line, byte offset and the fix."""
    line = data.count(b"\n", 0, err.start) + 1
    byte = data[err.start : err.start + 1].hex()
    return StanceError(
        problem(
            f"{path}, line {line}",
            f"byte 0x{byte} at byte offset {err.start} is not valid UTF-8",
            "re-save the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)",
        )
    )
