"""An xlsx output that a person opens: a ``paragraphs`` sheet and an ``articles`` sheet.

``paragraphs``: one row per paragraph, with the CSV output's columns but ``level`` and the
document-only ones (rows past Excel's 1,048,575 a sheet go on in ``paragraphs 2``, ...);
``articles``: one row per article, with its stance, probabilities, paragraphs, stance-bearing
paragraphs used and why it has no clear stance. predict.py gathers the flat rows as JSON lines in
its work file and writes the workbook when the run ends (openpyxl's streaming writer: memory stays
flat); ``read_back`` reads a finished workbook's rows, so that a rerun continues it. A text that
starts with "=" is written as text, never as a formula, and characters a workbook cannot hold
(control characters) are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException

from stance.errors import StanceError, problem
from stance.predict.columns import ARTICLE_COLUMNS, DOCUMENT_COLUMNS, PARAGRAPH_COLUMNS, View

PARAGRAPHS, ARTICLES = "paragraphs", "articles"
MAX_ROWS = 1_048_575  # rows per sheet under the header (Excel's limit)
MAX_CHARS = 32_767  # characters per cell (Excel's limit)


def sheet_columns(view: View) -> dict[str, list[str]]:
    """Each sheet's columns, in order."""
    return {
        PARAGRAPHS: [*PARAGRAPH_COLUMNS, *view.probas()],
        ARTICLES: [*ARTICLE_COLUMNS, *view.probas(), *DOCUMENT_COLUMNS],
    }


def write_workbook(rows_file: Path, dest: Path, view: View) -> None:
    """The flat rows in ``rows_file`` (JSON lines) as a workbook at ``dest``."""
    book = openpyxl.Workbook(write_only=True)
    for level, name in (("paragraph", PARAGRAPHS), ("document", ARTICLES)):
        columns = sheet_columns(view)[name]
        sheet, count, number = None, MAX_ROWS, 0
        for record in _records(rows_file):
            if record.get("level") != level:
                continue
            if count == MAX_ROWS:
                number += 1
                sheet = book.create_sheet(name if number == 1 else f"{name} {number}")
                sheet.append(columns)
                sheet.freeze_panes = "A2"
                count = 0
            sheet.append([_cell(sheet, record.get(c)) for c in columns])
            count += 1
        if sheet is None:  # no row of this level (a table of lone rows has no article)
            book.create_sheet(name).append(columns)
    book.save(dest)


def read_back(path: Path, view: View) -> Iterator[dict[str, Any]]:
    """The flat rows of a workbook ``write_workbook`` wrote: paragraphs, then articles."""
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, InvalidFileException, KeyError, ValueError) as err:
        fix = "give another output=, or pass resume=false to overwrite it"
        raise StanceError(problem(str(path), f"cannot be read as a workbook ({err})", fix)) from err
    try:
        wanted = sheet_columns(view)
        for sheet in book.worksheets:
            name = next((n for n in wanted if sheet.title.startswith(n)), sheet.title)
            rows = sheet.iter_rows(values_only=True)
            header = list(next(rows, ()))
            if wanted.get(name) != header:
                what = f"sheet {sheet.title!r} has columns {header}, not {wanted.get(name)}"
                fix = "give another output=, or pass resume=false to overwrite it"
                raise StanceError(problem(str(path), what, fix))
            level = "paragraph" if name == PARAGRAPHS else "document"
            for values in rows:
                record = dict.fromkeys(view.columns()) | dict(zip(header, values, strict=False))
                yield record | {"level": level}
    finally:
        book.close()


def _records(rows_file: Path) -> Iterator[dict[str, Any]]:
    with rows_file.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _cell(sheet: Any, value: Any) -> Any:
    """A value as a cell: text stays text, without the characters a workbook cannot hold."""
    if not isinstance(value, str):
        return value
    if not value:
        return None
    value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CHARS]
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a string, never a formula
    return cell
