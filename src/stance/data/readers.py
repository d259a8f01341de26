"""Read labeled paragraphs from CSV/TSV, JSONL, Parquet or a workbook into a `Loaded` table.

CSV/TSV: stance.data.delimited (with its field limit). JSONL is read line by line with Python's
json; like a CSV, a JSONL file whose lines end in a lone CR (old Mac exports) is read as if every CR
were an LF.
"""

from __future__ import annotations

import csv
import io
import json
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
    is_utf16,
    loaded_table,
    missing_column,
    read_bytes,
    readable,
    setting,
)
from stance.data.schema import DatasetConfig
from stance.data.workbooks import as_text, read_workbook
from stance.errors import StanceError, problem

WORKBOOK_MAGIC = {b"PK\x03\x04": "an xlsx/ods workbook", b"\xd0\xcf\x11\xe0": "an xls workbook"}


def wanted_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> input column, for the fields this config maps."""
    cols = cfg.columns
    return {f: getattr(cols, f) for f in FIELDS if getattr(cols, f) is not None}


def header_of(path: Path, fmt: str, delimiter: str | None = None, sheet: str | None = None
              ) -> list[str]:  # fmt: skip
    """The column names of a csv/tsv/jsonl/parquet/xlsx file (jsonl: the first object's keys)."""
    if fmt == "xlsx":
        from stance.data.workbooks import sheet_header

        return sheet_header(path, sheet)
    if fmt == "parquet":
        try:
            return pq.read_schema(path).names
        except (pa.ArrowException, OSError):
            return []  # read_tabular names the problem
    with readable(path), path.open("rb") as fh:
        head = unix_lines(fh.read(65536)).decode("utf-8", "replace").removeprefix(BOM)
    if fmt == "jsonl":
        first = next((ln for ln in head.splitlines() if ln.strip()), "")
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            return []
        return list(record) if isinstance(record, dict) else []
    delim = delimiter or ("\t" if fmt == "tsv" else ",")
    return next(csv.reader(io.StringIO(head), delimiter=delim), [])


def read_tabular(cfg: DatasetConfig, wanted: dict[str, str] | None = None) -> Loaded:
    """Read the csv/tsv/jsonl/parquet/xlsx file named by `cfg.path`; `wanted`: our field ->
    column, by default the config's mapping."""
    path, skip = Path(cfg.path), cfg.on_bad_rows == "skip"
    wanted = wanted_columns(cfg) if wanted is None else wanted
    if cfg.format == "xlsx":
        return read_workbook(path, wanted, cfg.sheet)
    data = read_bytes(path)
    if not data.removeprefix(BOM.encode()).strip():
        raise StanceError(problem(str(path), "the file is empty", "export the labelled rows again"))
    if cfg.format == "parquet":
        return _read_parquet(path, data, wanted)
    for magic, what in WORKBOOK_MAGIC.items():
        if data.startswith(magic):
            fix = f"set {setting('format')}=xlsx (and {setting('sheet')}=<name> for another sheet)"
            raise StanceError(problem(str(path), f"this is {what}, not {cfg.format}", fix))
    if is_utf16(data):
        fix = "save it as 'CSV UTF-8' (or `iconv -f utf-16 -t utf-8`); for tabs set format=tsv"
        raise StanceError(problem(str(path), "the file is UTF-16 text, not UTF-8", fix))
    if cfg.format == "jsonl":
        return _read_jsonl(path, data, wanted, skip)
    delimiter = cfg.delimiter or ("\t" if cfg.format == "tsv" else ",")
    return read_csv(path, data, wanted, delimiter, skip)


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
