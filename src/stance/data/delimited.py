"""Read a delimited file (CSV/TSV) into a `Loaded` table.

A fast path (pyarrow) and a careful path (Python's csv in strict mode) that knows the line of every
problem, taken when the fast one fails or the file looks odd: a quote next to a character that
cannot border a field (`"abc"x`, which pyarrow would read as `abcx`), blank lines, fields spanning
lines, rows pyarrow could not parse, fields longer than FIELD_LIMIT. Old Mac exports end lines with
a lone CR: a file with CRs and no LF is read as if every CR were an LF.

A field holds at most FIELD_LIMIT characters (131,072: the default limit of Python's csv); a row
with a longer mapped field is rejected as "field too long" on either path. No paragraph is that
long: such a field is usually an unclosed quote that joined the lines after it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from stance.data.records import (
    Columns,
    Kind,
    Loaded,
    bad_row,
    bad_utf8,
    check_header,
    loaded_table,
)

BOM = "\ufeff"
QUOTE_FIX = (
    'quote fields that contain the delimiter, quotes or line breaks with "...", and double every '
    'quote inside a quoted field ("")'
)
FIELD_LIMIT = 131_072  # characters in one field


def unix_lines(data: bytes) -> bytes:
    """Lone-CR line ends (old Mac exports: CRs, no LF) as LF; any other file as it is."""
    return data.replace(b"\r", b"\n") if b"\r" in data and b"\n" not in data else data


def read_csv(path: Path, raw: bytes, wanted: dict[str, str], delim: str, skip: bool) -> Loaded:
    """Read the `wanted` columns (our field -> column) of a delimited file; see the module doc."""
    data = unix_lines(raw)
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
    if (
        table is None
        or invalid
        or lines != table.num_rows + 1
        or _odd_quote(data, delim)
        or _maybe_too_long(table, wanted)
    ):
        return _careful_csv(path, data, wanted, delim, skip, raw)
    columns = {f: table[c] for f, c in wanted.items()}
    return loaded_table(path, columns, np.arange(2, table.num_rows + 2), table.num_rows, raw, [])


def _maybe_too_long(table: pa.Table, wanted: dict[str, str]) -> bool:
    """Has a mapped field more than FIELD_LIMIT bytes (so maybe more characters)?"""
    longest = (pc.max(pc.binary_length(table[c])).as_py() for c in set(wanted.values()))
    return any((n or 0) > FIELD_LIMIT for n in longest)


def _odd_quote(data: bytes, delim: str) -> bool:
    """Is there a quote that neither opens nor closes a field nor is doubled? (pyarrow guesses)"""
    buf = np.frombuffer(data, np.uint8)
    at = np.flatnonzero(buf == 34)  # '"'
    before, after = buf[np.maximum(at - 1, 0)], buf[np.minimum(at + 1, len(buf) - 1)]
    sep = ord(delim)
    opens = (at == 0) | (before == sep) | (before == 10) | (before == 34)
    closes = (at == len(buf) - 1) | (after == sep) | (after == 10) | (after == 13) | (after == 34)
    return bool((~opens & ~closes).any())


def _careful_csv(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool,
                 raw: bytes) -> Loaded:  # fmt: skip
    limit = csv.field_size_limit(2**31 - 1)  # read long fields whole; FIELD_LIMIT rejects them
    try:
        return _careful_records(path, data, wanted, delim, skip, raw)
    finally:
        csv.field_size_limit(limit)


def _careful_records(path: Path, data: bytes, wanted: dict[str, str], delim: str, skip: bool,
                     raw: bytes) -> Loaded:  # fmt: skip
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
                bad = _check_record(record, header, index)
                if bad:
                    bad_row(path, line, bad, record, skip, rejects)
                    continue
                builder.add([record[i] for i in index], line)
            break
        except csv.Error as err:
            kind = ("malformed csv", f"malformed quoting ({err}) in the record that starts here")
            bad_row(path, first + 1, (*kind, QUOTE_FIX), physical[first], skip, rejects)
            start = first + 1
    columns, lines = builder.finish()
    return loaded_table(path, columns, lines, len(lines) + len(rejects), raw, rejects)


def _check_record(record: list[str], header: list[str], index: list[int]) -> Kind | None:
    if len(record) != len(header):
        what = f"expected {len(header)} fields (as in the header), found {len(record)}"
        return "malformed csv", what, QUOTE_FIX
    for i in index:
        if len(record[i]) > FIELD_LIMIT:
            what = (
                f"field longer than the limit: column {header[i]!r} holds {len(record[i]):,} "
                f"characters, over {FIELD_LIMIT:,}"
            )
            fix = (
                "a paragraph is far shorter: close the quote that opens this field (an unclosed "
                "quote joins the lines after it into one field), or split the text into paragraphs"
            )
            return "field too long", what, fix
    if any("\udc80" <= ch <= "\udcff" for value in record for ch in value):
        return "not utf-8", "the row has bytes that are not valid UTF-8", "re-save it as UTF-8"
    return None
