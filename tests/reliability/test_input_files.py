"""Input files that real exports and real machines produce (issue 22 item 4): each one is read, or
stops with exit 2 and one message that names the file, the line and the fix, never a traceback."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import threading
import time
from pathlib import Path

import pytest

from data.data_helpers import compose_build, user_dataset
from fixtures import export_rows, tiny_dataset, write
from stance import runs
from stance.cli import user_errors
from stance.data import build_dataset, load_processed, read_card
from stance.data.delimited import FIELD_LIMIT
from stance.errors import StanceError
from train_helpers import run_script_in_process, write_csv

FIELDS = ["id", "doc_id", "text", "label", "target", "source", "date"]


def _csv_bytes(rows: list[dict], line_end: str = "\n") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _build(path: Path, tmp_path: Path, *overrides: str) -> Path:
    return build_dataset(user_dataset(path, *overrides, labels=None), tmp_path / "out")


# -- line ends and oversized fields -------------------------------------------------------------
def test_a_csv_with_old_mac_line_ends_reads_as_the_same_rows(tmp_path):
    rows = export_rows()
    (tmp_path / "mac.csv").write_bytes(_csv_bytes(rows, "\r"))
    ds = load_processed(_build(tmp_path / "mac.csv", tmp_path))
    assert sorted(i for s in ds for i in ds[s]["id"]) == sorted(r["id"] for r in rows)
    assert not any("\r" in t for s in ds for t in ds[s]["text"])


def test_a_bad_row_in_an_old_mac_csv_names_its_line(tmp_path):
    rows = export_rows()
    rows[4]["label"] = "maybe"
    (tmp_path / "mac.csv").write_bytes(_csv_bytes(rows, "\r") + b"\r")  # and a blank line
    with pytest.raises(StanceError, match=r"mac\.csv, line 6: unknown label 'maybe'"):
        _build(tmp_path / "mac.csv", tmp_path)


def test_a_jsonl_file_with_old_mac_line_ends_reads(tmp_path):
    rows = export_rows()
    path = tmp_path / "mac.jsonl"
    path.write_bytes("".join(json.dumps(r) + "\r" for r in rows).encode())
    assert read_card(_build(path, tmp_path))["rows"]["input"] == len(rows)


@pytest.mark.parametrize("blank_lines", [False, True], ids=["plain", "blank-lines-elsewhere"])
def test_a_field_over_the_limit_has_its_own_message_wherever_it_is(tmp_path, blank_lines):
    rows = export_rows()
    rows[2]["text"] = "word " * (FIELD_LIMIT // 5) + "end"  # 131,073 characters
    data = _csv_bytes(rows)
    if blank_lines:  # used to send the file down another path with another message
        data = data.replace(b"\nd9-p0", b"\n\nd9-p0")
    (tmp_path / "long.csv").write_bytes(data)
    with pytest.raises(StanceError) as err:
        _build(tmp_path / "long.csv", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'long.csv'}, line 4: field longer than the limit")
    assert f"column 'text' holds {FIELD_LIMIT + 1:,} characters, over {FIELD_LIMIT:,}" in message
    assert "unclosed quote" in message and "malformed quoting" not in message


def test_a_field_over_the_limit_is_one_reject_in_skip_mode_and_the_limit_itself_is_read(tmp_path):
    rows = export_rows()
    rows[2]["text"] = "word " * (FIELD_LIMIT // 5) + "end"
    rows[3]["text"] = "x" * FIELD_LIMIT
    (tmp_path / "long.csv").write_bytes(_csv_bytes(rows))
    card = read_card(_build(tmp_path / "long.csv", tmp_path, "dataset.on_bad_rows=skip"))
    assert card["rows"]["rejected_by_reason"] == {"field too long": 1}
    assert card["rows"]["input"] == len(rows) and card["rows"]["balanced"]


# -- encodings ----------------------------------------------------------------------------------
def test_a_utf16_article_is_named_utf16_not_cp1252(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "A1.txt").write_bytes("Paragraph one.\n\nParagraph two, café.\n".encode("utf-16"))
    (folder / "A2.txt").write_text("A short article.\n\nWith a second paragraph.\n")
    sheet = tmp_path / "labels.csv"
    sheet.write_text("doc_id,paragraph_index,label,target\nA1,0,pro,x\nA2,0,anti,x\n")
    cfg = compose_build(
        "demo_articles", f"dataset.path={folder}", f"dataset.label_sheet={sheet}",
        "dataset.columns.source=null", "dataset.columns.date=null",
    ).dataset  # fmt: skip
    with pytest.raises(StanceError) as err:
        build_dataset(cfg, tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{folder / 'A1.txt'}: the file is UTF-16 text, not UTF-8")
    assert "iconv -f utf-16 -t utf-8" in message and "cp1252" not in message


def test_a_utf16_csv_without_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(_csv_bytes(export_rows()).decode().encode("utf-16-le"))  # no BOM
    with pytest.raises(StanceError, match="the file is UTF-16 text, not UTF-8"):
        _build(path, tmp_path)


# -- what the machine does to a path ------------------------------------------------------------
def test_a_fifo_given_as_input_stops_at_once(tmp_path):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    def unblock() -> None:  # if the build opened the FIFO to read, feed it so the test ends
        while not done.wait(0.2):
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader (ENXIO): the build did not open it
                continue
            os.write(fd, _csv_bytes(export_rows()))
            os.close(fd)
            return

    guard = threading.Thread(target=unblock, daemon=True)
    guard.start()
    start = time.monotonic()
    try:
        with pytest.raises(StanceError) as err:
            _build(fifo, tmp_path)
    finally:
        done.set()
    assert str(err.value).startswith(f"{fifo}: input file is a FIFO (named pipe)")
    assert time.monotonic() - start < 30


def test_a_symlink_loop_is_named(tmp_path):
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    with pytest.raises(StanceError) as err:
        _build(tmp_path / "a.csv", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'a.csv'}: cannot read the input file: ")
    assert os.strerror(errno.ELOOP) in message


def test_an_unreadable_input_is_named(tmp_path, monkeypatch):
    path = write(tmp_path / "in.csv", export_rows())
    real = Path.read_bytes

    def denied(self: Path) -> bytes:  # tests run as root, where chmod 000 still reads
        if self == path:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(StanceError, match=f"{path}: cannot read the input file: Permission denied"):
        _build(path, tmp_path)


def _script_argv(path: Path, tmp_path: Path) -> list[str]:
    return [
        "dataset=csv_template",
        f"dataset.path={path}",
        f"paths.processed_root={tmp_path / 'out'}",
        f"hydra.run.dir={tmp_path / 'job'}",
    ]


def test_a_full_disk_while_building_is_one_message_and_the_old_dataset_stays(
    tmp_path, monkeypatch, capsys
):
    import datasets

    path = write(tmp_path / "in.csv", export_rows())
    run_script_in_process("build_dataset", _script_argv(path, tmp_path))
    card = tmp_path / "out" / "my_corpus" / "card.json"
    before = card.read_bytes()
    write(path, export_rows(n_docs=50))

    def full(self, target, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(datasets.DatasetDict, "save_to_disk", full)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("build_dataset", [*_script_argv(path, tmp_path), "force=true"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'out'}/.my_corpus.tmp-")
    assert "No space left on device (ENOSPC)" in err and "free space on that disk" in err
    assert "Traceback" not in err
    assert card.read_bytes() == before
    assert not [p.name for p in (tmp_path / "out").iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.EROFS, os.strerror(errno.EROFS), "/runs/x"), "/runs/x: Read-only file"),
        (PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/runs/x"), "(EACCES)"),
        (OSError(errno.ELOOP, os.strerror(errno.ELOOP), "/data/a"), "loop of symbolic links"),
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "the system named no path"),
    ],
)
def test_script_glue_turns_an_os_error_into_exit_2(error, expected, capsys):
    @user_errors
    def main() -> None:
        raise error

    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "\n  fix: " in err


def test_a_full_disk_while_training_marks_the_run_failed_with_the_reason(
    tmp_path, monkeypatch, capsys
):
    from stance.models.sklearn_models import TfidfStanceModel

    def full(self, folder, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))

    monkeypatch.setattr(TfidfStanceModel, "save", full)
    argv = [
        *write_csv(tiny_dataset(), tmp_path / "tiny.csv"),
        f"paths.processed_root={tmp_path / 'processed'}",
        f"paths.runs_root={tmp_path / 'runs'}",
        "evaluation.bootstrap=100",
    ]
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("train", argv)
    assert exit_info.value.code == 2
    assert "No space left on device (ENOSPC)" in capsys.readouterr().err
    (run_dir,) = (tmp_path / "runs" / "tiny" / "tfidf_logreg").iterdir()
    record = runs.read_run(run_dir)
    assert record["status"] == "failed" and "No space left on device" in record["error"]


# -- what the rows say --------------------------------------------------------------------------
def test_a_dataset_of_one_label_stops_at_build_time(tmp_path):
    rows = [
        {**r, "label": "favor" if r["label"] != "neutral" else "neutral"} for r in export_rows()
    ]
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")  # binary: neutral is left out
    message = str(err.value)
    kept = sum(r["label"] == "favor" for r in rows)
    assert message.startswith(f"dataset 'my_corpus' ({path}): all {kept} kept rows have the label")
    assert "'pro'" in message and "needs at least two labels" in message
    assert "'favor'" in message and "dataset.label_map" in message
    assert not (tmp_path / "out" / "my_corpus").exists()


def test_skip_mode_with_an_empty_target_column_names_the_target(tmp_path):
    rows = [{**r, "target": ""} for r in export_rows()]
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError) as err:
        _build(path, tmp_path, "dataset.on_bad_rows=skip")
    message = str(err.value)
    assert f"missing target: {len(rows)}" in message
    assert "target is missing" in message and "label_map" not in message
    rejects = tmp_path / "out" / "my_corpus.rejects.jsonl"
    assert len(rejects.read_text().splitlines()) == len(rows)
