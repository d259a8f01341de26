"""Bad input: one clear message (file, line, problem, fix) and exit 2, or rejects with skip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from data_helpers import CONFIGS, user_dataset

from fixtures import export_rows, write
from stance.data import build_dataset, read_card
from stance.errors import StanceError

HEADER = "id,doc_id,text,label,target,source,date\n"


def _csv(tmp_path: Path, *lines: str) -> Path:
    """A CSV of the tiny corpus with `lines` appended (they become lines 162, 163, ...)."""
    path = write(tmp_path / "in.csv", export_rows())
    with path.open("ab") as fh:
        for line in lines:
            fh.write(line.encode("utf-8") if isinstance(line, str) else line)
    return path


GOOD = len(export_rows()) + 1  # lines of the tiny corpus file, header included

CSV_CASES = {
    "unclosed quote": (
        'x1,dx,"An open quote that never ends,pro,t,s,2020-01-01\n',
        "malformed quoting",
    ),
    # pyarrow alone would read this field as `Closed quote then stray text` without a word
    "stray text after a closing quote": (
        'x1,dx,"Closed quote" then stray text,pro,t,s,2020-01-01\n',
        "malformed quoting",
    ),
    "too many fields": (
        "x1,dx,Some text,pro,t,s,2020-01-01,extra\n",
        "expected 7 fields (as in the header), found 8",
    ),
    "empty text": ("x1,dx,   ,pro,t,s,2020-01-01\n", "text is missing or empty"),
    "missing label": ("x1,dx,Some text,,t,s,2020-01-01\n", "label is missing"),
    "unknown label": ("x1,dx,Some text,maybe,t,s,2020-01-01\n", "unknown label 'maybe'"),
    "bad date": ("x1,dx,Some text,pro,t,s,01/02/2020\n", "does not match dataset.date_format"),
    "not utf-8": (b"x1,dx,Caf\xe9 policy,pro,t,s,2020-01-01\n", "is not valid UTF-8"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_each_bad_csv_row_names_file_line_problem_and_fix(tmp_path, case):
    line, expected = CSV_CASES[case]
    path = _csv(tmp_path, line)
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{path}, line {GOOD + 1}: ")
    assert expected in message
    assert "fix: " in message
    assert not (tmp_path / "out" / "my_corpus").exists()


def test_non_utf8_gives_the_byte_offset_and_the_re_save_fix(tmp_path):
    path = _csv(tmp_path, b"x1,dx,Caf\xe9 policy,pro,t,s,2020-01-01\n")
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(StanceError, match=f"(?s)byte 0xe9 at byte offset {offset} .*re-save"):
        build_dataset(user_dataset(path), tmp_path / "out")


def test_duplicate_ids_name_both_rows(tmp_path):
    path = _csv(tmp_path, "d0-p1,dx,Another paragraph entirely,pro,t,s,2020-01-01\n")
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    # d0-p1 is the second corpus row: line 3
    assert f"{path}, line {GOOD + 1}: duplicate id 'd0-p1'; it is also at {path}, line 3" in str(
        err.value
    )


def test_invalid_json_line_is_named(tmp_path):
    path = write(tmp_path / "in.jsonl", export_rows())
    with path.open("a") as fh:
        fh.write('{"id": "x1", "text": "unterminated, "label": "pro"}\n')
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    assert str(err.value).startswith(f"{path}, line {GOOD}: invalid JSON")


def test_skip_writes_every_rejected_row_with_its_reason_and_the_totals_add_up(tmp_path):
    lines = [line for line, _ in CSV_CASES.values() if "quote" not in str(line)]
    lines.append("d0-p1,dx,Another paragraph entirely,pro,t,s,2020-01-01\n")
    path = _csv(tmp_path, *lines, 'x9,dx,"An open quote that never ends,pro,t,s,2020-01-01\n')
    folder = build_dataset(user_dataset(path, "dataset.on_bad_rows=skip"), tmp_path / "out")
    card = read_card(folder)
    rejects = [json.loads(x) for x in (folder / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == card["rows"]["rejected"] == len(lines) + 1
    assert {r["where"] for r in rejects} == {
        f"{path}, line {GOOD + k}" for k in range(1, len(lines) + 2)
    }
    assert card["rows"]["input"] == len(export_rows()) + len(lines) + 1
    assert card["rows"]["balanced"]
    assert sum(card["rows"]["rejected_by_reason"].values()) == len(rejects)


def test_a_label_sheet_pointing_to_a_missing_paragraph(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "A1.txt").write_text("First paragraph here.\n\nSecond paragraph here.\n")
    sheet = tmp_path / "labels.csv"
    sheet.write_text("doc_id,paragraph_index,label\nA1,0,pro\nA1,5,anti\n")
    cfg = user_dataset(
        sheet,
        "dataset.format=articles",
        f"dataset.path={articles}",
        f"dataset.label_sheet={sheet}",
        "dataset.columns.target=null",
        "dataset.columns.source=null",
        "dataset.columns.date=null",
        "dataset.columns.id=null",
    )
    with pytest.raises(StanceError) as err:
        build_dataset(cfg, tmp_path / "out")
    assert str(err.value).startswith(
        f"{sheet}, line 3: paragraph_index 5 does not exist: the article has 2 paragraphs"
    )


def test_the_script_prints_one_message_and_exits_2(tmp_path):
    path = _csv(tmp_path, "x1,dx,Some text,maybe,t,s,2020-01-01\n")
    script = CONFIGS.parent / "scripts" / "build_dataset.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "dataset=csv_template",
            f"dataset.path={path}",
            f"paths.processed_root={tmp_path / 'out'}",
            "hydra.run.dir=" + str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}, line {GOOD + 1}: unknown label 'maybe'")


def test_non_utf8_in_jsonl_names_the_line(tmp_path):
    path = write(tmp_path / "in.jsonl", export_rows())
    with path.open("ab") as fh:
        fh.write(b'{"id": "x1", "doc_id": "dx", "text": "Caf\xe9", "label": "pro"}\n')
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    assert str(err.value).startswith(f"{path}, line {GOOD}: byte 0xe9")
    assert "UTF-8" in str(err.value)


def test_a_mapped_column_missing_from_the_file(tmp_path):
    path = write(tmp_path / "in.csv", export_rows())
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path, "dataset.columns.text=body"), tmp_path / "out")
    assert "column 'body' (for `text`) is not in the file" in str(err.value)
    assert "dataset.columns.text" in str(err.value)


def test_a_missing_input_file(tmp_path):
    with pytest.raises(StanceError, match="input file not found"):
        build_dataset(user_dataset(tmp_path / "nope.csv"), tmp_path / "out")


def test_line_numbers_count_blank_lines(tmp_path):
    path = _csv(tmp_path, "\n", "\n", "x1,dx,Some text,maybe,t,s,2020-01-01\n")
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    assert str(err.value).startswith(f"{path}, line {GOOD + 3}: unknown label 'maybe'")
