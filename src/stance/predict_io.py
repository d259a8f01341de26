"""Reading texts to label (txt article, JSONL, CSV, stdin) and writing predictions (JSONL, CSV)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from stance.errors import StanceError, problem
from stance.jsonl import iter_json_lines

INPUT_FORMATS = ("txt", "jsonl", "csv")
OUTPUT_FORMATS = ("jsonl", "csv")
_EXTENSIONS = {".txt": "txt", ".md": "txt", ".jsonl": "jsonl", ".csv": "csv"}
_KEPT = ("id", "doc_id", "target")


def input_format(path: str | None, declared: str | None) -> str:
    """The input's format: declared, else from the file extension; stdin needs it declared."""
    if declared:
        fmt = declared
    elif path in (None, "-"):
        fmt = "txt"  # stdin without input_format: one article
    else:
        fmt = _EXTENSIONS.get(Path(path).suffix.lower(), "")
    if fmt not in INPUT_FORMATS:
        raise StanceError(
            problem(
                str(path),
                f"unknown input format {fmt or Path(str(path)).suffix or '(no extension)'!r}",
                f"use a .txt (one article), .jsonl or .csv file, or set input_format to one of "
                f"{INPUT_FORMATS}",
            )
        )
    return fmt


def read_rows(path: str | None, fmt: str) -> list[dict[str, Any]]:
    """Rows with ``text`` (and ``id``, ``doc_id``, ``target`` when given) from a file or stdin."""
    where = "stdin" if path in (None, "-") else str(path)
    if where == "stdin":
        content = sys.stdin.read()
    else:
        try:
            content = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise StanceError(problem(where, "no such file", "check the input= path")) from err
        except UnicodeDecodeError as err:
            raise StanceError(problem(where, "not UTF-8 text", "save it as UTF-8")) from err
    if fmt == "txt":
        rows = _article_rows(content, "stdin" if where == "stdin" else Path(where).stem)
    elif fmt == "jsonl":
        rows = _jsonl_rows(content, where)
    else:
        rows = _csv_rows(content, where)
    if not rows:
        raise StanceError(problem(where, "empty input: no text to label", "give some text"))
    return rows


def _article_rows(content: str, doc_id: str) -> list[dict[str, Any]]:
    from stance.data import split_paragraphs

    return [
        {"id": f"{doc_id}-p{i:02d}", "doc_id": doc_id, "paragraph": i, "text": text}
        for i, text in enumerate(split_paragraphs(content))
    ]


def _row(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise StanceError(problem(where, "no `text` string in this row", "give each row a text"))
    if not record["text"].strip():
        raise StanceError(problem(where, "empty `text`", "remove the row or fill in its text"))
    row = {k: record[k] for k in _KEPT if record.get(k) not in (None, "")}
    row["text"] = record["text"]
    return row


def _jsonl_rows(content: str, where: str) -> list[dict[str, Any]]:
    return [
        _row(record, f"{where}:{number}")
        for number, record in iter_json_lines(content.splitlines(), where)
    ]


def _csv_rows(content: str, where: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(content))
    if reader.fieldnames is not None and "text" not in reader.fieldnames:
        raise StanceError(
            problem(
                f"{where}:1",
                f"no `text` column in the header {reader.fieldnames}",
                "name the column holding the paragraphs `text`",
            )
        )
    # Line numbers count the header as line 1.
    return [_row(record, f"{where}:{i}") for i, record in enumerate(reader, start=2)]


def output_format(path: str | None, declared: str | None) -> str:
    """The output's format: declared, else from the extension, else JSONL."""
    fmt = declared or (
        Path(path).suffix.lower().lstrip(".") if path not in (None, "-") else "jsonl"
    )
    if fmt not in OUTPUT_FORMATS:
        raise StanceError(
            problem(str(path), f"unknown output format {fmt!r}", f"use one of {OUTPUT_FORMATS}")
        )
    return fmt


def write_rows(
    rows: Sequence[dict[str, Any]], out: TextIO, fmt: str, classes: Sequence[str]
) -> None:
    """Write prediction rows as JSONL or as CSV (probabilities as ``proba_<label>`` columns)."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    flat = []
    for row in rows:
        record = {k: v for k, v in row.items() if k != "proba"}
        record.update({f"proba_{c}": row["proba"][c] for c in classes})
        flat.append(record)
    columns: list[str] = []
    for record in flat:
        columns += [k for k in record if k not in columns]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
