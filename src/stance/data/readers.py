"""Read labeled paragraphs from CSV/TSV, JSONL, Parquet or a workbook into a `Loaded` table.

CSV/TSV: stance.data.delimited (with its field limit). JSONL is read line by line with Python's
json; like a CSV, a JSONL file whose lines end in a lone CR (old Mac exports) is read as if every CR
were an LF.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stance.data.delimited import BOM, read_csv, unix_lines
from stance.data.records import (
    FIELDS,
    Columns,
    Kind,
    Loaded,
    bad_row,
    extra_fields,
    is_utf16,
    loaded_table,
    missing_column,
    read_bytes,
    readable,
    setting,
)
from stance.data.schema import DatasetConfig
from stance.data.workbooks import as_text, read_workbook, sheet_header
from stance.errors import StanceError, problem

WORKBOOK_MAGIC = {b"PK\x03\x04": "an xlsx/ods workbook", b"\xd0\xcf\x11\xe0": "an xls workbook"}


def wanted_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> input column, for the fields this config maps."""
    cols = cfg.columns
    wanted = {f: getattr(cols, f) for f in FIELDS if getattr(cols, f) is not None}
    return {**wanted, **extra_fields(list(cols.extra))}


@dataclass(frozen=True)
class TableSpec:
    """How to read one table file: what the dataset builder and predict.py both hand the readers
    (a dataset config is one source of it, predict.py's input settings another)."""

    path: Path
    format: str  # a key of READERS
    delimiter: str | None = None  # csv/tsv: null means "," for csv and a tab for tsv
    sheet: str | None = None  # xlsx: the sheet's name; null: the first sheet
    skip: bool = False  # bad rows become rejects (on_bad_rows=skip) instead of an error

    @classmethod
    def of(cls, cfg: DatasetConfig) -> TableSpec:
        """The spec of a dataset config's (one) file."""
        skip = cfg.on_bad_rows == "skip"
        return cls(Path(cfg.path), cfg.format, cfg.delimiter, cfg.sheet, skip)

    def separator(self) -> str:
        """The delimiter of a csv/tsv file."""
        return self.delimiter or ("\t" if self.format == "tsv" else ",")


@dataclass(frozen=True)
class Reader:
    """One table format: its header (column names) and its rows (`wanted`: field -> column)."""

    header: Callable[[TableSpec], list[str]]
    read: Callable[[TableSpec, dict[str, str]], Loaded]


def _text_head(spec: TableSpec) -> str:
    with readable(spec.path), spec.path.open("rb") as fh:
        return unix_lines(fh.read(65536)).decode("utf-8", "replace").removeprefix(BOM)


def _jsonl_header(spec: TableSpec) -> list[str]:
    first = next((ln for ln in _text_head(spec).splitlines() if ln.strip()), "")
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        return []
    return list(record) if isinstance(record, dict) else []


def _parquet_header(spec: TableSpec) -> list[str]:
    try:
        return pq.read_schema(spec.path).names
    except (pa.ArrowException, OSError):
        return []  # reading it names the problem


def _delimited_header(spec: TableSpec) -> list[str]:
    return next(csv.reader(io.StringIO(_text_head(spec)), delimiter=spec.separator()), [])


def _nonempty_bytes(spec: TableSpec) -> bytes:
    """The file's bytes; an empty file (or only a BOM and blanks) stops here."""
    data = read_bytes(spec.path)
    if not data.removeprefix(BOM.encode()).strip():
        what, fix = "the file is empty", "export the labelled rows again"
        raise StanceError(problem(str(spec.path), what, fix))
    return data


def _text_bytes(spec: TableSpec) -> bytes:
    """The bytes of a text table, after the checks every text format shares."""
    data = _nonempty_bytes(spec)
    for magic, what in WORKBOOK_MAGIC.items():
        if data.startswith(magic):
            fix = f"set {setting('format')}=xlsx (and {setting('sheet')}=<name> for another sheet)"
            raise StanceError(problem(str(spec.path), f"this is {what}, not {spec.format}", fix))
    if is_utf16(data):
        fix = "save it as 'CSV UTF-8' (or `iconv -f utf-16 -t utf-8`); for tabs set format=tsv"
        raise StanceError(problem(str(spec.path), "the file is UTF-16 text, not UTF-8", fix))
    return data


def _delimited(spec: TableSpec, wanted: dict[str, str]) -> Loaded:
    return read_csv(spec.path, _text_bytes(spec), wanted, spec.separator(), spec.skip)


def _jsonl(spec: TableSpec, wanted: dict[str, str]) -> Loaded:
    return _read_jsonl(spec.path, _text_bytes(spec), wanted, spec.skip)


def _parquet(spec: TableSpec, wanted: dict[str, str]) -> Loaded:
    return _read_parquet(spec.path, _nonempty_bytes(spec), wanted)


# A file's table format by its suffix (predict.py's inputs, the files of labelling rounds).
TABLE_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx",
    ".ods": "xlsx",
}  # fmt: skip

# Adding a table format is one reader and one line here; the dataset builder and predict.py both
# read through this table (and schema.FORMATS lists the names a dataset config accepts).
READERS: dict[str, Reader] = {
    "csv": Reader(_delimited_header, _delimited),
    "tsv": Reader(_delimited_header, _delimited),
    "jsonl": Reader(_jsonl_header, _jsonl),
    "parquet": Reader(_parquet_header, _parquet),
    "xlsx": Reader(
        lambda spec: sheet_header(spec.path, spec.sheet),
        lambda spec, wanted: read_workbook(spec.path, wanted, spec.sheet),
    ),
}


def header_of(spec: TableSpec) -> list[str]:
    """The column names of a table file (jsonl: the first object's keys)."""
    return READERS[spec.format].header(spec)


def read_table(spec: TableSpec, wanted: dict[str, str]) -> Loaded:
    """The `wanted` columns (our field -> column) of the table file `spec` names."""
    return READERS[spec.format].read(spec, wanted)


def read_tabular(cfg: DatasetConfig, wanted: dict[str, str] | None = None) -> Loaded:
    """Read the table file named by a dataset config; `wanted`: our field -> column, by default
    the config's mapping."""
    return read_table(TableSpec.of(cfg), wanted_columns(cfg) if wanted is None else wanted)


def _read_jsonl(path: Path, raw: bytes, wanted: dict[str, str], skip: bool) -> Loaded:
    data = unix_lines(raw)
    rejects: list[dict] = []
    builder = Columns(list(wanted))
    seen_keys: set[str] = set()
    for number, line in enumerate(data.removeprefix(BOM.encode()).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            what = f"byte 0x{line[err.start : err.start + 1].hex()} is not valid UTF-8"
            kind = ("not utf-8", what, "re-save the file as UTF-8")
            bad_row(path, number, kind, line.decode(errors="replace"), skip, rejects)
            continue
        bad, record = _parse_json_line(text, wanted)
        if bad:
            bad_row(path, number, bad, text, skip, rejects)
            continue
        seen_keys.update(record)
        builder.add([as_text(record.get(col)) for col in wanted.values()], number)
    columns, lines = builder.finish()
    for f, col in wanted.items():
        if lines and col not in seen_keys:
            raise missing_column(path, f, col, sorted(seen_keys))
    return loaded_table(path, columns, lines, len(lines) + len(rejects), raw, rejects)


def _parse_json_line(text: str, wanted: dict[str, str]) -> tuple[Kind | None, dict]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        fix = "write one complete JSON object per line (check quotes, commas and braces)"
        return ("invalid json", f"invalid JSON: {err.msg} at column {err.colno}", fix), {}
    if not isinstance(record, dict):
        return ("invalid json", "the line is not a JSON object", "write one {...} per line"), {}
    for f, col in wanted.items():
        if isinstance(record.get(col), dict | list):
            what = f"`{col}` (for {f}) is a JSON {type(record[col]).__name__}, not a string"
            return ("invalid json", what, f"make `{col}` a string"), {}
    return None, record


def _read_parquet(path: Path, raw: bytes, wanted: dict[str, str]) -> Loaded:
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except pa.ArrowException as err:
        what = f"not a readable Parquet file ({err})"
        raise StanceError(problem(str(path), what, "re-export it as Parquet")) from None
    for f, col in wanted.items():
        if col not in table.column_names:
            raise missing_column(path, f, col, table.column_names)
    try:
        columns = {f: pc.cast(table[c], pa.string()) for f, c in wanted.items()}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        what = f"a mapped column cannot be read as text ({err})"
        raise StanceError(problem(str(path), what, "store text columns as strings")) from None
    lines = np.arange(1, table.num_rows + 1)
    return loaded_table(path, columns, lines, table.num_rows, raw, [], unit="row")
