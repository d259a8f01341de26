"""Read labeled paragraphs from CSV/TSV, JSONL, Parquet or a workbook into a `Loaded` table.

CSV has a fast path (pyarrow) and a careful path (Python's csv in strict mode) that knows the line
of every problem, taken when the fast one fails or the file looks odd: a quote next to a character
that cannot border a field (`"abc"x`, which pyarrow would read as `abcx`), blank lines, fields
spanning lines, rows pyarrow could not parse. JSONL is read line by line with Python's json.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from stance.data.records import (
    FIELDS,
    Columns,
    Loaded,
    bad_utf8,
    check_header,
    hash_bytes,
    missing_column,
    read_bytes,
    reject,
    setting,
)
from stance.data.schema import DatasetConfig
from stance.data.workbooks import as_text, read_workbook
from stance.errors import StanceError, problem

BOM = "\ufeff"
QUOTE_FIX = (
    'quote fields that contain the delimiter, quotes or line breaks with "...", and double every '
    'quote inside a quoted field ("")'
)
WORKBOOK_MAGIC = {b"PK\x03\x04": "an xlsx/ods workbook", b"\xd0\xcf\x11\xe0": "an xls workbook"}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export
Kind = tuple[str, str, str]  # (short name counted in the card, what was wrong, how to fix it)


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
    with path.open("rb") as fh:
        head = fh.read(65536).decode("utf-8", "replace").removeprefix(BOM)
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
    if data.startswith(UTF16_BOMS):
        fix = "save it as 'CSV UTF-8' (or `iconv -f utf-16 -t utf-8`); for tabs set format=tsv"
        raise StanceError(problem(str(path), "the file is UTF-16 text, not UTF-8", fix))
    if cfg.format == "jsonl":
        return _read_jsonl(path, data, wanted, skip)
    delimiter = cfg.delimiter or ("\t" if cfg.format == "tsv" else ",")
    return read_csv(path, data, wanted, delimiter, skip)


def _table(path: Path, columns: dict, lines: list, n_input: int, data: bytes, rejects: list,
           unit: str = "line") -> Loaded:  # fmt: skip
    table = pa.table({**columns, "_line": pa.array(lines, pa.int64())})
    return Loaded(table, [str(path)], unit, n_input, hash_bytes(data), rejects)


def read_csv(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool) -> Loaded:
    """Read the `wanted` columns (our field -> column) of a delimited file; see the module doc."""
    text_head = data[:65536].decode("utf-8", "replace").removeprefix(BOM)
    header = next(csv.reader(io.StringIO(text_head), delimiter=delim), [])
    check_header(path, header, wanted, delim)
    invalid: list[int] = []
    try:
        table = pcsv.read_csv(
            pa.BufferReader(data),
            parse_options=pcsv.ParseOptions(
                delimiter=delim, invalid_row_handler=lambda row: invalid.append(1) or "skip"
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(dict.fromkeys(wanted.values())),
                column_types={c: pa.string() for c in wanted.values()},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError):
        table = None
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    if table is None or invalid or lines != table.num_rows + 1 or _odd_quote(data, delim):
        return _careful_csv(path, data, wanted, delim, skip)
    columns = {f: table[c] for f, c in wanted.items()}
    return _table(path, columns, np.arange(2, table.num_rows + 2), table.num_rows, data, [])


def _odd_quote(data: bytes, delim: str) -> bool:
    """Is there a quote that neither opens nor closes a field nor is doubled? (pyarrow guesses)"""
    buf = np.frombuffer(data, np.uint8)
    at = np.flatnonzero(buf == 34)  # '"'
    before, after = buf[np.maximum(at - 1, 0)], buf[np.minimum(at + 1, len(buf) - 1)]
    sep = ord(delim)
    opens = (at == 0) | (before == sep) | (before == 10) | (before == 34)
    closes = (at == len(buf) - 1) | (after == sep) | (after == 10) | (after == 13) | (after == 34)
    return bool((~opens & ~closes).any())


def _careful_csv(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool) -> Loaded:
    if not skip:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise bad_utf8(str(path), data, err) from None
    physical = data.decode("utf-8", "surrogateescape").removeprefix(BOM).split("\n")
    rejects: list[dict] = []
    builder = Columns(list(wanted))
    header: list[str] | None = None
    index: list[int] = []
    start = 0
    while start < len(physical):
        reader = csv.reader((ln + "\n" for ln in physical[start:]), delimiter=delim, strict=True)
        first = start
        try:
            for record in reader:
                line = first + 1
                first = start + reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if header is None:
                    header = record
                    index = [header.index(c) for c in wanted.values()]
                    continue
                bad = _check_record(record, header)
                if bad:
                    _bad_row(path, line, bad, record, skip, rejects)
                    continue
                builder.add([record[i] for i in index], line)
            break
        except csv.Error as err:
            kind = ("malformed csv", f"malformed quoting ({err}) in the record that starts here")
            _bad_row(path, first + 1, (*kind, QUOTE_FIX), physical[first], skip, rejects)
            start = first + 1
    columns, lines = builder.finish()
    return _table(path, columns, lines, len(lines) + len(rejects), data, rejects)


def _check_record(record: list[str], header: list[str]) -> Kind | None:
    if len(record) != len(header):
        what = f"expected {len(header)} fields (as in the header), found {len(record)}"
        return "malformed csv", what, QUOTE_FIX
    if any("\udc80" <= ch <= "\udcff" for value in record for ch in value):
        return "not utf-8", "the row has bytes that are not valid UTF-8", "re-save it as UTF-8"
    return None


def _bad_row(path: Path, line: int, kind: Kind, record: object, skip: bool, rejects: list) -> None:
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


def _read_jsonl(path: Path, data: bytes, wanted: dict[str, str], skip: bool) -> Loaded:
    rejects: list[dict] = []
    builder = Columns(list(wanted))
    seen_keys: set[str] = set()
    for number, raw in enumerate(data.removeprefix(BOM.encode()).split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            what = f"byte 0x{raw[err.start : err.start + 1].hex()} is not valid UTF-8"
            kind = ("not utf-8", what, "re-save the file as UTF-8")
            _bad_row(path, number, kind, raw.decode(errors="replace"), skip, rejects)
            continue
        bad, record = _parse_json_line(text, wanted)
        if bad:
            _bad_row(path, number, bad, text, skip, rejects)
            continue
        seen_keys.update(record)
        builder.add([as_text(record.get(col)) for col in wanted.values()], number)
    columns, lines = builder.finish()
    for f, col in wanted.items():
        if lines and col not in seen_keys:
            raise missing_column(path, f, col, sorted(seen_keys))
    return _table(path, columns, lines, len(lines) + len(rejects), data, rejects)


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
    return _table(path, columns, lines, table.num_rows, raw, [], unit="row")
