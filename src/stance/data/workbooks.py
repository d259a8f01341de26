"""Read one sheet of an xlsx/xls/ods workbook (python-calamine) into a `Loaded` table."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa

from stance.data.records import Columns, Loaded, check_header, hash_bytes, read_bytes, setting
from stance.errors import StanceError, problem


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


def _cells(path: Path, raw: bytes, sheet: str | None, rows: int | None = None
           ) -> tuple[str, list[list]]:  # fmt: skip
    """The sheet's name and its cells (the first ``rows`` rows only, when given); in a full read
    every cell of a merged range holds the range's value (see `_unmerge`)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        name = sheet if sheet is not None else book.sheet_names[0]
        if name not in book.sheet_names:
            what = f"no sheet {name!r}; the workbook has {book.sheet_names}"
            raise StanceError(problem(str(path), what, f"set {setting('sheet')} to one of them"))
        found = book.get_sheet_by_name(name)
        if rows is not None:
            return name, [row for row, _ in zip(found.iter_rows(), range(rows), strict=False)]
        cells = found.to_python(skip_empty_area=False)  # indexed from A1, as merged ranges are
        merged = found.merged_cell_ranges or []  # None where the format does not say (ods)
    except (CalamineError, ValueError, OSError) as err:
        what = f"not a readable workbook ({type(err).__name__}: {err})"
        fix = f"save it as .xlsx, or export it as CSV UTF-8 and set {setting('format')}=csv"
        raise StanceError(problem(str(path), what, fix)) from None
    return name, _unmerge(f"{path} [sheet {name}]", cells, merged)


def _unmerge(where: str, cells: list[list], merged: list) -> list[list]:
    """Copy each merged range's value (its top-left cell) into its other cells.

    Annotation sheets merge a doc_id over an article's rows; read as written, only the first row
    would have it and every other row would become a document of its own. A row that is empty
    before the copy stays empty (it is not a paragraph). A range that joins the header row to
    data rows has no meaning as data, so it stops the build.
    """
    blank = [not any(c not in ("", None) for c in row) for row in cells]
    for (top, left), (bottom, right) in sorted(merged):
        if top == 0 < bottom:
            what = f"cells {_a1(top, left)}:{_a1(bottom, right)} are merged across the header row"
            fix = "unmerge them (Home > Merge > Unmerge) so that row 1 holds only column names"
            raise StanceError(problem(where, what, fix))
        if top == 0 or top >= len(cells) or left >= len(cells[top]):
            continue  # a merged title in the header row only, or a range outside the data
        value = cells[top][left]
        for r in range(top, min(bottom, len(cells) - 1) + 1):
            row = cells[r]
            if not blank[r]:
                row[left : right + 1] = [value] * len(row[left : right + 1])
    return cells


def _a1(row: int, column: int) -> str:
    """A 0-based cell position as a spreadsheet reference: (0, 27) -> AB1."""
    letters = ""
    column += 1
    while column:
        column, digit = divmod(column - 1, 26)
        letters = chr(65 + digit) + letters
    return f"{letters}{row + 1}"


def sheet_header(path: Path, sheet: str | None) -> list[str]:
    """The first row of a workbook's sheet, as text."""
    _, cells = _cells(path, read_bytes(path), sheet, rows=1)
    return [as_text(c) or "" for c in cells[0]] if cells else []


def read_workbook(path: Path, wanted: dict[str, str], sheet: str | None) -> Loaded:
    """One sheet of an xlsx/xls/ods workbook (python-calamine); its first row is the header."""
    raw = read_bytes(path)
    name, cells = _cells(path, raw, sheet)
    header = [as_text(c) or "" for c in cells[0]] if cells else []
    where = f"{path} [sheet {name}]"
    check_header(Path(where), header, wanted, ",")
    index = [header.index(c) for c in wanted.values()]
    builder = Columns(list(wanted))
    for number, row in enumerate(cells[1:], start=2):
        if any(c not in ("", None) for c in row):  # an empty row is not a paragraph
            builder.add([as_text(row[i]) if i < len(row) else None for i in index], number)
    columns, lines = builder.finish()
    table = pa.table({**columns, "_line": pa.array(lines, pa.int64())})
    return Loaded(table, [where], "row", len(lines), hash_bytes(raw), [])
