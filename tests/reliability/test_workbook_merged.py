"""Workbooks as annotators make them (issue 22 item 3): a doc_id merged over an article's rows is
that article's id on every row, a merge across the header stops the build naming the range, and a
mapped doc_id column that is mostly blank warns in the card and on stderr."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from data.data_helpers import user_dataset
from fixtures import export_rows, write
from stance.data import build_dataset, load_processed, read_card
from stance.errors import StanceError

FIELDS = ["id", "doc_id", "text", "label", "target", "source", "date"]
ARTICLES, PARAGRAPHS = 20, 5


def _sheet(path: Path, rows: list[dict], merge: list[str]) -> Path:
    """`rows` under a header of FIELDS; each range in `merge` merged (its first cell's value)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(FIELDS)
    for row in rows:
        sheet.append([row[f] for f in FIELDS])
    for cells in merge:
        sheet.merge_cells(cells)  # openpyxl empties every cell of the range but the first
    book.save(path)
    return path


def test_a_doc_id_merged_over_an_article_is_every_rows_doc_id(tmp_path):
    rows = export_rows(ARTICLES, PARAGRAPHS)
    # column B (doc_id), rows 2-6 for the first article, 7-11 for the second, ...
    merged = [f"B{2 + a * PARAGRAPHS}:B{1 + (a + 1) * PARAGRAPHS}" for a in range(ARTICLES)]
    path = _sheet(tmp_path / "labels.xlsx", rows, merged)
    folder = build_dataset(user_dataset(path, labels=None), tmp_path / "out")
    card, ds = read_card(folder), load_processed(folder)
    assert sum(card["documents"].values()) == ARTICLES
    assert card["leakage"]["documents_in_several_splits"] == 0
    assert card["rows"]["blank"]["doc_id"] == 0
    doc_of = {i: d for s in ds for i, d in zip(ds[s]["id"], ds[s]["doc_id"], strict=True)}
    assert doc_of == {r["id"]: r["doc_id"] for r in rows}


def test_a_merge_across_the_header_stops_the_build_naming_the_range(tmp_path):
    rows = export_rows(4, 2)
    path = _sheet(tmp_path / "labels.xlsx", rows, ["D1:D3"])  # `label` header over two labels
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path, labels=None), tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{path} [sheet Sheet]: cells D1:D3 are merged across the header")
    assert "unmerge" in message.lower()


def test_an_empty_row_inside_a_merged_range_stays_empty(tmp_path):
    rows = export_rows(ARTICLES, 3)
    last = len(rows) + 1  # the sheet row of the last paragraph; the range reaches 2 rows below
    path = _sheet(tmp_path / "labels.xlsx", rows, ["B2:B4", f"B{last - 2}:B{last + 2}"])
    card = read_card(build_dataset(user_dataset(path, labels=None), tmp_path / "out"))
    assert card["rows"]["input"] == len(rows) and card["rows"]["rejected"] == 0


def test_a_mostly_blank_doc_id_column_warns_in_the_card_and_on_stderr(tmp_path, capsys):
    rows = export_rows(ARTICLES, PARAGRAPHS)
    for row in rows:  # the id only on an article's first paragraph, as some exports write it
        row["doc_id"] = row["doc_id"] if row["id"].endswith("-p0") else ""
    path = write(tmp_path / "labels.csv", rows)
    card = read_card(build_dataset(user_dataset(path, labels=None), tmp_path / "out"))
    (warning,) = [w for w in card["warnings"] if "no doc_id" in w]
    blank = ARTICLES * (PARAGRAPHS - 1)
    assert warning.startswith(f"{blank} of the {len(rows)} rows read have no doc_id")
    assert "fill it down" in warning
    assert f"WARNING: my_corpus: {warning}" in capsys.readouterr().err


def test_doc_ids_on_every_row_do_not_warn(tmp_path):
    path = write(tmp_path / "labels.csv", export_rows(ARTICLES, PARAGRAPHS))
    card = read_card(build_dataset(user_dataset(path, labels=None), tmp_path / "out"))
    assert not [w for w in card["warnings"] if "no doc_id" in w]
