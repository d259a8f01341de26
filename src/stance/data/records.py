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
# What a `columns.extra` column cannot be called: our fields, and the keys a prediction row adds.
RESERVED = (*FIELDS, "gold", "pred", "proba", "paragraph_index", "_line", "_file")
Kind = tuple[str, str, str]  # (short name counted in the card, what was wrong, how to fix it)
CHUNK = 100_000  # rows per Arrow chunk of a `Columns`: Python strings are freed as it goes
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export


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


def extra_fields(extra: list[str]) -> dict[str, str]:
    """`columns.extra` as field -> column: each kept under its own name, once."""
    for name in extra:
        if name in RESERVED:
            what = f"columns.extra names {name!r}, a name the dataset already uses ({RESERVED})"
            fix = f"map it as {setting('columns')}.<field> if it is one of ours, or rename it"
        elif extra.count(name) > 1:
            what, fix = f"columns.extra names {name!r} twice", "list each column once"
        else:
            continue
        raise StanceError(problem(setting("columns") + ".extra", what, fix))
    return {name: name for name in extra}


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


def loaded_table(path: Path, columns: dict, lines: list, n_input: int, data: bytes, rejects: list,
                 unit: str = "line") -> Loaded:  # fmt: skip
    """A reader's result: `columns` (our field -> strings) with the line of each row."""
    table = pa.table({**columns, "_line": pa.array(lines, pa.int64())})
    return Loaded(table, [str(path)], unit, n_input, hash_bytes(data), rejects)


def bad_row(path: Path, line: int, kind: Kind, record: object, skip: bool, rejects: list) -> None:
    """Raise the problem `kind` at `line`, or record it as a reject (skip mode)."""
    name, what, fix = kind
    where = f"{path}, line {line}"
    if not skip:
        raise StanceError(problem(where, what, fix))
    if isinstance(record, str):
        record = record.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    elif isinstance(record, list):
        record = [v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in record]
    rejects.append(reject(where, name, what, record))


def reject(where: str, kind: str, reason: str, record: object) -> dict:
    """One line of rejects.jsonl; `kind` is the short problem name counted in the card."""
    return {"where": where, "kind": kind, "reason": reason, "record": record}


def read_bytes(path: Path, what: str = "input file") -> bytes:
    """The bytes of an input file, or a StanceError that says which path is missing."""
    with readable(path, what):
        return path.read_bytes()


@contextmanager
def readable(path: Path, what: str = "input file") -> Iterator[None]:
    """Open `path` inside: a missing file, a folder, a FIFO (whose read would wait for a writer)
    or an unreadable path becomes a StanceError naming the path."""
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            kind = "a FIFO (named pipe)" if path.is_fifo() else "not a regular file"
            fix = "write the data into a regular file and read that file instead"
            raise StanceError(problem(str(path), f"{what} is {kind}", fix))
        yield
    except FileNotFoundError:
        raise StanceError(
            problem(str(path), f"{what} not found", "check `dataset.path` (relative to the cwd)")
        ) from None
    except IsADirectoryError:
        raise StanceError(
            problem(str(path), f"{what} is a folder", "point `dataset.path` at a file")
        ) from None
    except OSError as err:  # permission denied, a symlink loop, an I/O error
        what = f"cannot read the {what}: {err.strerror}"
        fix = "make it readable by this user (check the file's permissions and links)"
        raise StanceError(problem(str(path), what, fix)) from None


def hash_bytes(*parts: bytes) -> str:
    """A content hash of input bytes (BLAKE2b, 128 bit, hex)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p)
    return h.hexdigest()


def bad_utf8(path: str, data: bytes, err: UnicodeDecodeError) -> StanceError:
    """The error for undecodable bytes: file, line, byte offset and the fix."""
    if is_utf16(data):
        return utf16_error(path)
    line = data.count(b"\n", 0, err.start) + 1
    byte = data[err.start : err.start + 1].hex()
    return StanceError(
        problem(
            f"{path}, line {line}",
            f"byte 0x{byte} at byte offset {err.start} is not valid UTF-8",
            "re-save the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)",
        )
    )


def utf16_error(path: str) -> StanceError:
    """The error for a UTF-16 file (Excel's "Unicode Text", Notepad's "Unicode")."""
    what = "the file is UTF-16 text, not UTF-8"
    fix = "save it as UTF-8 (`iconv -f utf-16 -t utf-8 IN > OUT`; Excel: 'CSV UTF-8')"
    return StanceError(problem(path, what, fix))


def is_utf16(data: bytes) -> bool:
    """A UTF-16 byte order mark, or (without one) a NUL in every other byte of mostly-ASCII text."""
    if data.startswith(UTF16_BOMS):
        return True
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return len(head) >= 16 and min(even, odd) == 0 and max(even, odd) > 0.2 * len(head)
