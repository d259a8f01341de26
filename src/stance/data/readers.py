"""Read labeled paragraphs from CSV/TSV, JSONL, Parquet or a workbook into a `Loaded` table.

CSV and JSONL have a fast path (pyarrow) and a careful path (Python's csv in strict mode, json)
that knows the line of every problem. The careful path is taken when the fast one fails or the file
looks odd: a quote next to a character that cannot border a field (`"abc"x`, which pyarrow would
read as `abcx`), blank lines, fields spanning lines, rows pyarrow could not parse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pj
import pyarrow.parquet as pq

from stance.data.records import FIELDS, Loaded, bad_utf8, hash_bytes, read_bytes, reject
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem

BOM = "\ufeff"
QUOTE_FIX = (
    'quote fields that contain the delimiter, quotes or line breaks with "...", and double every '
    'quote inside a quoted field ("")'
)
WORKBOOK_MAGIC = {b"PK\x03\x04": "an xlsx/ods workbook", b"\xd0\xcf\x11\xe0": "an xls workbook"}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export
CHUNK = 100_000  # careful-path rows per Arrow chunk: Python strings are freed as it goes
Kind = tuple[str, str, str]  # (short name counted in the card, what was wrong, how to fix it)


def wanted_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> input column, for the fields this config maps."""
    cols = cfg.columns
    return {f: getattr(cols, f) for f in FIELDS if getattr(cols, f) is not None}


def read_tabular(cfg: DatasetConfig) -> Loaded:
    """Read the csv/tsv/jsonl/parquet/xlsx file named by `cfg.path`."""
    path, wanted, skip = Path(cfg.path), wanted_columns(cfg), cfg.on_bad_rows == "skip"
    if cfg.format == "xlsx":
        return read_workbook(path, wanted, cfg.sheet)
    data = read_bytes(path)
    if cfg.format == "parquet":
        return _read_parquet(path, data, wanted)
    for magic, what in WORKBOOK_MAGIC.items():
        if data.startswith(magic):
            fix = "set dataset.format=xlsx (and dataset.sheet=<name> for another sheet)"
            raise StanceError(problem(str(path), f"this is {what}, not {cfg.format}", fix))
    if data.startswith(UTF16_BOMS):
        fix = "save it as 'CSV UTF-8' (or `iconv -f utf-16 -t utf-8`); for tabs set format=tsv"
        raise StanceError(problem(str(path), "the file is UTF-16 text, not UTF-8", fix))
    if cfg.format == "jsonl":
        return _read_jsonl(path, data, wanted, skip)
    delimiter = cfg.delimiter or ("\t" if cfg.format == "tsv" else ",")
    return read_csv(path, data, wanted, delimiter, skip)


def _missing_column(path: Path, field: str, column: str, available: list[str]) -> StanceError:
    what = f"column {column!r} (for `{field}`) is not in the file; it has {available}"
    fix = f"set dataset.columns.{field} to one of those columns (null if there is none)"
    return StanceError(problem(str(path), what, fix))


def check_header(path: Path, header: list[str], wanted: dict[str, str], delimiter: str) -> None:
    """Every mapped column is in the header; a one-column header names the delimiter it holds."""
    missing = [(f, c) for f, c in wanted.items() if c not in header]
    if not missing:
        return
    if len(header) == 1:
        for sep, name in (("\t", "a tab"), (";", "';'"), ("|", "'|'")):
            if sep != delimiter and sep in header[0]:
                quoted = f'"{sep}"'  # Hydra's grammar wants it quoted: 'dataset.delimiter=";"'
                setting = f"delimiter: {quoted} in the dataset config ('dataset.delimiter={quoted}'"
                setting += " on the command line)"
                setting = "dataset.format=tsv" if sep == "\t" else setting
                what = f"the header is one column split by {name}, not by {delimiter!r}"
                raise StanceError(problem(f"{path}, line 1", what, f"set {setting}"))
    raise _missing_column(path, *missing[0], header)


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
    at = np.flatnonzero(buf == ord('"'))
    before = buf[np.maximum(at - 1, 0)]
    after = buf[np.minimum(at + 1, len(buf) - 1)]
    opens = (at == 0) | np.isin(before, list(f'{delim}\n"'.encode()))
    closes = (at == len(buf) - 1) | np.isin(after, list(f'{delim}\r\n"'.encode()))
    return bool((~opens & ~closes).any())


def _careful_csv(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool) -> Loaded:
    if not skip:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise bad_utf8(str(path), data, err) from None
    physical = data.decode("utf-8", "surrogateescape").removeprefix(BOM).split("\n")
    rejects: list[dict] = []
    builder = _Columns(list(wanted))
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


class _Columns:
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
    # as strings, so that pyarrow does not turn ids into numbers or dates into timestamps;
    # any surprise (a number, a key missing everywhere, bad UTF-8, a BOM) goes the careful way
    names = list(dict.fromkeys(wanted.values()))
    options = pj.ParseOptions(
        explicit_schema=pa.schema([(c, pa.string()) for c in names]),
        unexpected_field_behavior="ignore",
    )
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=options)
        for c in names:
            table[c].validate(full=True)  # the JSON reader lets invalid UTF-8 through
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        table = None
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    if (
        table is None
        or table.num_rows != lines
        or any(table[c].null_count == table.num_rows for c in names)
    ):
        return _careful_jsonl(path, data, wanted, skip)
    columns = {f: table[c] for f, c in wanted.items()}
    return _table(path, columns, np.arange(1, table.num_rows + 1), table.num_rows, data, [])


def _careful_jsonl(path: Path, data: bytes, wanted: dict[str, str], skip: bool) -> Loaded:
    rejects: list[dict] = []
    builder = _Columns(list(wanted))
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
            raise _missing_column(path, f, col, sorted(seen_keys))
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


def as_text(value: object) -> str | None:
    """A cell as text: numbers without a spurious `.0`, dates as ISO, booleans lower-case."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_parquet(path: Path, raw: bytes, wanted: dict[str, str]) -> Loaded:
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except pa.ArrowException as err:
        what = f"not a readable Parquet file ({err})"
        raise StanceError(problem(str(path), what, "re-export it as Parquet")) from None
    for f, col in wanted.items():
        if col not in table.column_names:
            raise _missing_column(path, f, col, table.column_names)
    try:
        columns = {f: pc.cast(table[c], pa.string()) for f, c in wanted.items()}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        what = f"a mapped column cannot be read as text ({err})"
        raise StanceError(problem(str(path), what, "store text columns as strings")) from None
    lines = np.arange(1, table.num_rows + 1)
    return _table(path, columns, lines, table.num_rows, raw, [], unit="row")


def read_workbook(path: Path, wanted: dict[str, str], sheet: str | None) -> Loaded:
    """One sheet of an xlsx/xls/ods workbook (python-calamine); its first row is the header."""
    from python_calamine import CalamineError, CalamineWorkbook

    raw = read_bytes(path)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        name = sheet if sheet is not None else book.sheet_names[0]
        if name not in book.sheet_names:
            what = f"no sheet {name!r}; the workbook has {book.sheet_names}"
            raise StanceError(problem(str(path), what, "set dataset.sheet to one of them"))
        cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as err:
        what = f"not a readable workbook ({type(err).__name__}: {err})"
        fix = "save it as .xlsx, or export it as CSV UTF-8 and set dataset.format=csv"
        raise StanceError(problem(str(path), what, fix)) from None
    header = [as_text(c) or "" for c in cells[0]] if cells else []
    check_header(Path(f"{path} [sheet {name}]"), header, wanted, ",")
    index = [header.index(c) for c in wanted.values()]
    builder = _Columns(list(wanted))
    for number, row in enumerate(cells[1:], start=2):
        if any(c not in ("", None) for c in row):  # an empty row is not a paragraph
            builder.add([as_text(row[i]) if i < len(row) else None for i in index], number)
    columns, lines = builder.finish()
    loaded = _table(path, columns, lines, len(lines), raw, [], unit="row")
    loaded.files = [f"{path} [sheet {name}]"]
    return loaded
