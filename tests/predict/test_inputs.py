"""What predict.py reads: .txt articles in folders and globs, tables in every format, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stance.errors import StanceError
from stance.predict.inputs import InputSpec, sources, units

ARTICLE = "Title line\n\nWe support the new tariffs.\n\nCritics oppose them.\n"


def read(path: Path | str, **spec: object) -> list[list[dict]]:
    """Every unit of every source ``path`` names (locations dropped, as in the output)."""
    given = InputSpec(str(path), **spec)
    return [
        [{k: v for k, v in row.items() if k != "_where"} for row in unit]
        for source in sources(given)
        for unit in units(source, given)
    ]


def test_a_folder_of_articles_gives_one_unit_per_file_named_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "2024").mkdir()
    (tmp_path / "b.txt").write_text(ARTICLE)
    (tmp_path / "2024" / "a.txt").write_text("\ufeff" + ARTICLE)  # a BOM is not text
    (tmp_path / "2024" / "a.target").write_text("tariffs\n")  # the sidecar gives the policy
    (tmp_path / ".hidden.txt").write_text("not an input")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")  # unknown kinds are not inputs
    found = read(tmp_path)
    assert [unit[0]["doc_id"] for unit in found] == ["2024/a", "b"]
    first = found[0]
    assert [r["text"] for r in first] == ["Title line", "We support the new tariffs.",
                                          "Critics oppose them."]  # fmt: skip
    assert [r["id"] for r in first] == ["2024/a-p0", "2024/a-p1", "2024/a-p2"]
    assert {r.get("target") for r in first} == {"tariffs"}
    assert "target" not in found[1][0]
    assert [u[0]["doc_id"] for u in read(tmp_path / "**" / "a.txt")] == ["a"]


def test_two_inputs_that_would_give_one_document_name_are_refused(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(ARTICLE)
    assert [u[0]["doc_id"] for u in read(tmp_path / "*" / "same.txt")] == ["x/same", "y/same"]
    (tmp_path / "x" / "same.md").write_text(ARTICLE)  # one name, two files: whose rows are x/same?
    with pytest.raises(StanceError, match="both give the document name 'x/same'"):
        read(tmp_path)


def test_renamed_columns_of_an_excel_csv_export_are_mapped(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # Excel's "CSV UTF-8"
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["Article", "Paragraph text", "Policy", "Coder"])
        writer.writerow(["n1", "We support the tariffs.", "tariffs", "ana"])
        writer.writerow(["n1", 'They said "no", twice.\nThen left.', "tariffs", "ana"])
        writer.writerow(["n2", "Critics oppose the aid.", "aid", "bo"])
    mapping = {"text": "Paragraph text", "doc_id": "Article", "target": "Policy"}
    found = read(path, columns=mapping)
    assert [[r["doc_id"] for r in unit] for unit in found] == [["n1", "n1"], ["n2"]]
    assert found[0][1]["text"] == 'They said "no", twice.\nThen left.'
    assert found[0][1]["id"] == "export-3"  # <file>-<line>, as the dataset builder's ids
    assert found[1][0]["target"] == "aid"
    with pytest.raises(StanceError, match=r"(?s)column 'Body' \(for `text`\) is not in the file.*"
                       r"set columns.text to one of those"):  # fmt: skip
        read(path, columns={"text": "Body"})


def test_tables_of_every_format_read_alike(tmp_path: Path) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"id": "r1", "doc_id": "d1", "text": "We support it.", "target": "aid", "label": "x"},
        {"id": "r2", "doc_id": "d1", "text": "We oppose it.", "target": "aid", "label": "y"},
    ]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.tsv").write_text(
        "id\tdoc_id\ttext\ttarget\n" + "".join(f"{r['id']}\td1\t{r['text']}\taid\n" for r in rows)
    )
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    book = openpyxl.Workbook()
    book.active.append(list(rows[0]))
    for r in rows:
        book.active.append(list(r.values()))
    book.save(tmp_path / "t.xlsx")
    expected = [[{k: r[k] for k in ("id", "doc_id", "target", "text")} for r in rows]]
    for name in ("t.jsonl", "t.tsv", "t.parquet", "t.xlsx"):
        assert read(tmp_path / name) == expected, name  # id, doc_id, target found by name
    ignored = read(tmp_path / "t.jsonl", columns={"text": "text", "doc_id": None})
    assert [len(unit) for unit in ignored] == [1, 1]  # doc_id: null: each row on its own
    assert "target" not in ignored[0][0]  # not mapped at all: not read either


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.docx", "x", "unknown input format '.docx'"),
        ("in.jsonl", '{"text": "ok"}\n{"text": broken}\n', r"in.jsonl, line 2: invalid JSON"),
        ("in.csv", "body,target\nhello,tax\n", r"column 'text' \(for `text`\) is not in the file"),
        ("in.csv", 'text\nfine\n""\n', r"in.csv, line 3: empty text"),
        ("in.csv", "text;doc_id\nfine;a\n", r"(?s)split by ';'.*'delimiter=\";\"' on the command"),
        ("in.csv", "text,doc_id\na,d1\nb,d2\nc,d1\n", r"(?s)line 4: doc_id 'd1' again.*sort"),
        ("in.txt", "  \n\n \n", "no paragraph of text in this article"),
        ("in.txt", b"caf\xe9", "not UTF-8 text"),
        ("in.xlsx", "id,text\n", "not a readable workbook"),
    ],
)
def test_bad_input_files(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(StanceError, match=message):
        read(path)


def test_an_input_that_names_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StanceError, match="no such file, folder or glob"):
        read(tmp_path / "missing")
    with pytest.raises(StanceError, match="matches no input file"):
        read(tmp_path / "*.txt")
    (tmp_path / "in.csv").write_text("text\nhello\n")
    with pytest.raises(StanceError, match=r"unknown fields \['body'\]"):
        read(tmp_path / "in.csv", columns={"text": "text", "body": "x"})
    with pytest.raises(StanceError, match=r"(?s)column 'Story' \(for `doc_id`\).*set columns"):
        read(tmp_path / "in.csv", columns={"text": "text", "doc_id": "Story"})
