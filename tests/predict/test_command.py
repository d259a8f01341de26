"""predict.py end to end: a folder of articles and a renamed-column table, progress, resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fixtures import ANTI, PRO
from stance.predict.outputs import Writer
from train_helpers import run_script_in_process


def articles(folder: Path, n: int) -> Path:
    """``n`` articles of three paragraphs: a headline, a pro or anti one, and a caption."""
    folder.mkdir()
    for i in range(n):
        cue = PRO[i % len(PRO)] if i % 2 else ANTI[i % len(ANTI)]
        body = f"We {cue} the policy, said senator {i}.\n\nThey {cue} it too."
        (folder / f"article-{i:03d}.txt").write_text(f"Headline {i}\n\n{body}\n\nPhoto: a hall\n")
    return folder


def predict(run_dir: Path, *args: str) -> None:
    run_script_in_process("predict", [f"model={run_dir}", *args])


def test_a_folder_is_labelled_with_a_progress_bar_and_a_rerun_skips_it(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder, out = articles(tmp_path / "in", 12), tmp_path / "labels.csv"
    predict(run_dir, f"input={folder}", f"output={out}")
    err = capsys.readouterr().err
    assert "12/12" in err and "wrote 60 rows from 12 files" in err  # 4 paragraphs + 1 doc row
    rows = list(csv.DictReader(out.open()))
    documents = [r for r in rows if r["level"] == "document"]
    assert [r["doc_id"] for r in documents] == [f"article-{i:03d}" for i in range(12)]
    assert documents[1]["label"] == "pro" and documents[2]["label"] == "anti"
    predict(run_dir, f"input={folder}", f"output={out}")
    err = capsys.readouterr().err
    assert "wrote 0 rows from 12 files" in err and "12 documents were already there" in err
    assert list(csv.DictReader(out.open())) == rows


def test_a_killed_run_resumes_to_the_same_output(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    folder = articles(tmp_path / "in", 9)
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    predict(run_dir, f"input={folder}", f"output={whole}", "batch_size=4")
    real_write, written = Writer.write, []

    def dies_after_four(self: Writer, rows: list[dict]) -> None:
        if len(written) == 4:
            raise KeyboardInterrupt  # the user's Ctrl-C, or a kill between two units
        written.append(rows)
        real_write(self, rows)

    monkeypatch.setattr(Writer, "write", dies_after_four)
    with pytest.raises(SystemExit) as stopped:  # Ctrl-C: exit 130, no traceback
        predict(run_dir, f"input={folder}", f"output={resumed}", "batch_size=4")
    assert stopped.value.code == 130
    assert "stopped by SIGINT; the same command continues" in capsys.readouterr().err
    monkeypatch.setattr(Writer, "write", real_write)
    predict(run_dir, f"input={folder}", f"output={resumed}", "batch_size=4")
    assert "4 documents were already there" in capsys.readouterr().err
    assert resumed.read_text() == whole.read_text()


def test_a_renamed_column_csv_is_labelled_in_one_command(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    table = tmp_path / "export.csv"
    table.write_text(
        "Story,Body\n"
        "s1,We support and applaud it.\n"
        "s1,They welcome it.\n"
        "s2,We oppose and condemn it.\n"
    )
    out = tmp_path / "labels.parquet"
    predict(run_dir, f"input={table}", "columns.text=Body", "columns.doc_id=Story", f"output={out}")
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    assert [(r["level"], r["doc_id"]) for r in rows] == [
        ("paragraph", "s1"), ("paragraph", "s1"), ("document", "s1"),
        ("paragraph", "s2"), ("document", "s2")]  # fmt: skip
    assert rows[0]["id"] == "export-2" and rows[2]["label"] == "pro"
    assert rows[4]["label"] == "no clear stance"  # one paragraph is too few (DocumentConfig)
    with pytest.raises(SystemExit) as exit_info:
        predict(run_dir, f"input={table}", f"output={tmp_path / 'x.csv'}")
    assert exit_info.value.code == 2
    assert "set columns.text to one of those columns" in capsys.readouterr().err
