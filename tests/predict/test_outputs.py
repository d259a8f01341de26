"""Outputs: JSONL, CSV and Parquet written a unit at a time, and resumed after a kill."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from stance.errors import StanceError
from stance.predict.outputs import Writer

CLASSES = ["anti", "pro"]
META = {"model": "/runs/m", "classes": CLASSES, "document": {"min_paragraphs": 2}}


def unit(doc: str | None, n: int) -> list[dict]:
    """``n`` paragraph rows of document ``doc`` (a lone paragraph when None) and its doc row."""
    proba = {"anti": 0.25, "pro": 0.75}
    text = 'He said "yes",\nthen left.'  # a quote and a line break inside one CSV field
    rows = [{"level": "paragraph", "id": f"{doc or 'lone'}-{i}", "text": text, "label": "pro",
             "proba": proba} | ({"doc_id": doc} if doc else {}) for i in range(n)]  # fmt: skip
    if doc:
        rows.append({"level": "document", "doc_id": doc, "label": "pro", "proba": proba,
                     "paragraphs": n, "paragraphs_used": n, "rule": "r"})  # fmt: skip
    return rows


def rows_of(path: Path, fmt: str) -> list[dict]:
    """The rows of an output file, as plain dicts."""
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    if fmt == "csv":
        return list(csv.DictReader(path.open(newline="")))
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_rerun_cuts_a_partial_unit_and_skips_the_complete_ones(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    writer = Writer(str(path), fmt, CLASSES, META)
    for u in (unit("a", 2), unit(None, 1), unit("b", 1)):
        writer.write(u)
    writer.close()
    complete = path.read_bytes()
    # A kill in the middle of document c: two of its paragraph rows, the second one cut short.
    partial = Writer(str(path), fmt, CLASSES, META)
    assert partial.done == {"a", "lone-0", "b"}
    partial.write(unit("c", 3)[:2])
    partial.abandon()  # killed: its rows stay in the work file beside the output
    work = tmp_path / f".out.{fmt}.partial"
    with work.open("ab") as fh:
        fh.write(b'{"level": "paragr' if fmt == "jsonl" else b'paragraph,c,"He said')
    assert path.read_bytes() == complete  # the finished output is as it was
    resumed = Writer(str(path), fmt, CLASSES, META)
    assert resumed.done == {"a", "lone-0", "b"}  # c was not finished
    assert work.read_bytes() == complete  # its rows are gone
    resumed.write(unit("c", 3))
    resumed.close()
    rows = rows_of(path, fmt)
    assert [r["id"] for r in rows if r["level"] == "paragraph"] == [
        "a-0", "a-1", "lone-0", "b-0", "c-0", "c-1", "c-2"]  # fmt: skip
    assert rows[0]["text"] == 'He said "yes",\nthen left.'


def test_parquet_parts_survive_a_kill_and_merge_into_one_file(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    writer = Writer(str(path), "parquet", CLASSES, META)
    writer.write(unit("a", 2))
    writer._flush_part()  # a part file written, then the process is killed: no close()
    writer.write(unit("b", 2))  # still in memory: lost with the process
    assert not path.exists() and (tmp_path / "out.parquet.parts").is_dir()
    resumed = Writer(str(path), "parquet", CLASSES, META)
    assert resumed.done == {"a"}
    resumed.write(unit("b", 2))
    resumed.close()
    assert not (tmp_path / "out.parquet.parts").exists()
    again = Writer(str(path), "parquet", CLASSES, META)  # a finished file is continued too
    assert again.done == {"a", "b"}
    again.write(unit("c", 1))
    again.close()
    rows = rows_of(path, "parquet")
    assert [r["doc_id"] for r in rows if r["level"] == "document"] == ["a", "b", "c"]
    assert rows[0]["proba_pro"] == 0.75 and rows[2]["paragraphs"] == 2


def test_an_output_of_another_model_or_tool_is_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    Writer(str(path), "jsonl", CLASSES, META).close()
    with pytest.raises(StanceError, match="was written with other settings"):
        Writer(str(path), "jsonl", CLASSES, {**META, "model": "/runs/other"})
    mine = tmp_path / "mine.csv"
    mine.write_text("my,own\n1,2\n")
    with pytest.raises(StanceError, match=r"exists and was not written by predict\.py"):
        Writer(str(mine), "csv", CLASSES, META)
    assert mine.read_text() == "my,own\n1,2\n"  # nothing lost
    Writer(str(mine), "csv", CLASSES, META, resume=False).close()  # asked for: overwritten
    assert mine.read_text() == ""
