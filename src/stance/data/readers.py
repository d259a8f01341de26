"""Read labeled paragraphs from CSV, TSV, JSONL or Parquet into a `Loaded` table of our fields.

Each reader has a fast path (pyarrow, multi-threaded) and a careful path (Python's csv/json, line by
line) taken only when the fast path fails or the file looks odd (odd number of quotes, blank lines,
fields spanning lines, invalid rows). The careful path knows the line of every problem.
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
import pyarrow.json as pj
import pyarrow.parquet as pq

from stance.data.kernels import csv_scan
from stance.data.loaded import (
    FIELDS,
    Loaded,
    bad_utf8,
    hash_bytes,
    map_bytes,
    read_bytes,
    reject,
)
from stance.data.parallel import run_all
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem

# pyarrow's own threads for the CSV parse, while another thread scans and hashes the file: the
# read of the 1M-row benchmark file took 0.35-0.45 s with them, 0.42-0.49 s without (10 reads each,
# alternating; benchmarks/results/bench_build.md)
PARSE_THREADS = True
QUOTE_FIX = (
    'quote fields that contain the delimiter, quotes or line breaks with "...", and double every '
    'quote inside a quoted field ("")'
)


def wanted_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> input column, for the fields this config maps."""
    cols = cfg.columns
    return {f: getattr(cols, f) for f in FIELDS if getattr(cols, f) is not None}


def read_tabular(cfg: DatasetConfig) -> Loaded:
    """Read a csv/tsv/jsonl/parquet file named by `cfg.path`."""
    path = Path(cfg.path)
    wanted = wanted_columns(cfg)
    skip = cfg.on_bad_rows == "skip"
    if cfg.format == "parquet":
        return _read_parquet(path, wanted)
    if cfg.format == "jsonl":
        return _read_jsonl(path, read_bytes(path), wanted, skip)
    return read_csv(path, wanted, "\t" if cfg.format == "tsv" else ",", skip)


def _finish(
    path: Path,
    columns: dict[str, pa.Array],
    lines: pa.Array,
    n_input: int,
    input_hash: str,
    rejects: list[dict],
    unit: str = "line",
) -> Loaded:
    table = pa.table({**columns, "_line": lines})
    return Loaded(table, [str(path)], unit, n_input, input_hash, rejects)


def _missing_column(path: Path, field: str, column: str, available: list[str]) -> StanceError:
    return StanceError(
        problem(
            str(path),
            f"column {column!r} (for `{field}`) is not in the file; it has {available}",
            f"set dataset.columns.{field} to one of those columns (null if there is none)",
        )
    )


def _line_count(data: bytes) -> int:
    return _lines(data.count(b"\n"), data)


def _lines(line_feeds: int, data: bytes | np.ndarray) -> int:
    """Lines in `data` given its line feeds: a last line without one counts too."""
    return line_feeds + (1 if len(data) and data[-1] != ord("\n") else 0)


def read_csv(
    path: Path, wanted: dict[str, str], delim: str, skip: bool, what: str = "input file"
) -> Loaded:
    """Read the `wanted` columns (our field -> column) of a CSV/TSV file; see the module doc."""
    invalid: list[int] = []
    # a memory map, no copy; pyarrow parses the same map (mapping twice cost 0.04 s at 295 MB:
    # each map's pages fault in separately)
    data = map_bytes(path, what)

    def parse() -> pa.Table | None:
        try:
            return pcsv.read_csv(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pcsv.ReadOptions(use_threads=PARSE_THREADS),
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
            return None  # the scan below says what is wrong, or the careful path finds it

    def scan() -> tuple[int, int, str]:
        return *csv_scan(data, ord(delim)), hash_bytes(data)

    # pyarrow parses (on its own threads, without the GIL) while we scan and hash the file
    (n_lines, bad_quote, content), table = run_all(scan, parse)
    head = data[:65536].tobytes().decode("utf-8", "replace")
    header = next(csv.reader(io.StringIO(head), delimiter=delim), [])
    for f, col in wanted.items():
        if col not in header:
            raise _missing_column(path, f, col, header)
    # rows map to lines 2, 3, ... unless pyarrow skipped blank lines or a row was invalid; a
    # quote left open, or followed by a stray character, makes pyarrow guess (`"a"b` -> `ab`)
    looks_clean = (
        table is not None
        and not invalid
        and _lines(n_lines, data) == table.num_rows + 1
        and bad_quote < 0
    )
    if not looks_clean:  # the bytes already mapped: the hash stays that of what was scanned
        return _careful_csv(path, data.tobytes(), wanted, delim, skip)
    columns = {f: table[c] for f, c in wanted.items()}
    lines = pa.array(np.arange(2, table.num_rows + 2))
    return _finish(path, columns, lines, table.num_rows, content, [])


def _careful_csv(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool) -> Loaded:
    if not skip:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise bad_utf8(str(path), data, err) from None
    physical = data.decode("utf-8", "surrogateescape").split("\n")
    rejects: list[dict] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    start = 0
    while start < len(physical):
        reader = csv.reader((ln + "\n" for ln in physical[start:]), delimiter=delim, strict=True)
        first = start
        try:
            for record in reader:
                line = first + 1
                first = start + reader.line_num
                if not record or (len(record) == 1 and not record[0]):
                    continue
                if header is None:
                    header = record
                    continue
                bad = _check_record(record, header)
                if bad:
                    _bad_row(path, line, bad, record, skip, rejects)
                    continue
                rows.append(record)
                lines.append(line)
            break
        except csv.Error as err:
            what = f"malformed quoting ({err}) in the record that starts here"
            kind = ("malformed csv", what, QUOTE_FIX)
            _bad_row(path, first + 1, kind, physical[first], skip, rejects)
            start = first + 1
    header = header or []
    index = {c: header.index(c) for c in wanted.values()}
    columns = {f: pa.array([r[index[c]] for r in rows], pa.string()) for f, c in wanted.items()}
    n_input = len(rows) + len(rejects)
    return _finish(path, columns, pa.array(lines, pa.int64()), n_input, hash_bytes(data), rejects)


def _check_record(record: list[str], header: list[str]) -> tuple[str, str, str] | None:
    if len(record) != len(header):
        what = f"expected {len(header)} fields (as in the header), found {len(record)}"
        return "malformed csv", what, QUOTE_FIX
    if any("\udc80" <= ch <= "\udcff" for value in record for ch in value):
        return "not utf-8", "the row has bytes that are not valid UTF-8", "re-save it as UTF-8"
    return None


def _bad_row(
    path: Path,
    line: int,
    kind: tuple[str, str, str],
    record: object,
    skip: bool,
    rejects: list[dict],
) -> None:
    """Raise the problem `kind` = (short name, what, fix) at `line`, or record it as a reject."""
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
    # any surprise (a number, a key missing everywhere, bad UTF-8) goes the careful way
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
    if (
        table is None
        or table.num_rows != _line_count(data)
        or any(table[c].null_count == table.num_rows for c in names)
    ):
        return _careful_jsonl(path, data, wanted, skip)
    columns = {f: table[c] for f, c in wanted.items()}
    lines = pa.array(np.arange(1, table.num_rows + 1))
    return _finish(path, columns, lines, table.num_rows, hash_bytes(data), [])


def _careful_jsonl(path: Path, data: bytes, wanted: dict[str, str], skip: bool) -> Loaded:
    rejects: list[dict] = []
    rows: dict[str, list] = {f: [] for f in wanted}
    lines: list[int] = []
    seen_keys: set[str] = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
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
        for f, col in wanted.items():
            rows[f].append(_as_str(record.get(col)))
        lines.append(number)
    for f, col in wanted.items():
        if lines and col not in seen_keys:
            raise _missing_column(path, f, col, sorted(seen_keys))
    columns = {f: pa.array(v, pa.string()) for f, v in rows.items()}
    n_input = len(lines) + len(rejects)
    return _finish(path, columns, pa.array(lines, pa.int64()), n_input, hash_bytes(data), rejects)


def _parse_json_line(text: str, wanted: dict[str, str]) -> tuple[tuple[str, str, str] | None, dict]:
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


def _as_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _read_parquet(path: Path, wanted: dict[str, str]) -> Loaded:
    raw = read_bytes(path)
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except pa.ArrowException as err:
        raise StanceError(
            problem(str(path), f"not a readable Parquet file ({err})", "re-export it as Parquet")
        ) from None
    for f, col in wanted.items():
        if col not in table.column_names:
            raise _missing_column(path, f, col, table.column_names)
    try:
        columns = {f: pc.cast(table[c], pa.string()) for f, c in wanted.items()}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise StanceError(
            problem(
                str(path),
                f"a mapped column cannot be read as text ({err})",
                "store text columns as UTF-8 strings",
            )
        ) from None
    lines = pa.array(np.arange(1, table.num_rows + 1))
    return _finish(path, columns, lines, table.num_rows, hash_bytes(raw), [], unit="row")
