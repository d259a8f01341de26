"""Outputs never overwrite or read back their own inputs, and are written whole (issue 22, item 1).

Each case writes its own input, runs the real script (in this process, or killed in a child
process), and checks the exit status, the message and that no earlier input or output changed.
"""

from __future__ import annotations

import csv
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import ANTI, PRO, tiny_dataset
from stance import runs
from stance.errors import StanceError
from stance.labelling import sheets
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict.outputs import META_SUFFIX
from train_helpers import CONFIGS, run_script_in_process


@pytest.fixture(scope="module")
def model_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run folder with a tiny text-only model."""
    folder = tmp_path_factory.mktemp("run")
    model = TfidfStanceModel(target_mode="none", char_ngrams=None).fit(tiny_dataset()["train"])
    runs.save_model_atomic(model, folder / runs.MODEL_DIR, "# card\n")
    runs.end_run(folder, runs.start_run(folder, {}), "complete")
    return folder


def table(path: Path, docs: int = 4, bad_doc: int | None = None) -> Path:
    """A CSV of ``docs`` documents of two paragraphs; ``bad_doc``'s second text is empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["doc_id", "text"])
        for d in range(docs):
            cue = (PRO + ANTI)[d % 12]
            out.writerow([f"d{d}", f"We {cue} the policy, said senator {d}."])
            out.writerow([f"d{d}", "" if d == bad_doc else f"They {cue} it as well."])
    return path


def predict(run: Path, *args: str) -> int:
    """Run predict.py in this process; its exit status (0 when it returns)."""
    try:
        # two paragraphs a batch: each document is labelled and written before the next is read
        run_script_in_process("predict", [f"model={run}", "progress=false", "batch_size=2", *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("resume", ["true", "false"])
def test_an_output_onto_its_own_input_is_refused_and_the_input_kept(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, resume: str
) -> None:
    """The trial's lost file: output=input with resume=false emptied /tmp/x.csv."""
    source = table(tmp_path / "x.csv")
    before = tree(tmp_path)
    assert predict(model_run, f"input={source}", f"output={source}", f"resume={resume}") == 2
    err = capsys.readouterr().err
    assert f"output={source}: is the input file {source}" in err and "fix: " in err
    assert "Traceback" not in err
    assert tree(tmp_path) == before  # not emptied, no .stance.json beside it


def test_an_output_reached_through_a_symlink_is_refused(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = table(tmp_path / "data" / "x.csv")
    (tmp_path / "link").symlink_to(tmp_path / "data", target_is_directory=True)
    before = tree(tmp_path / "data")
    assert predict(model_run, f"input={source}", f"output={tmp_path / 'link' / 'x.csv'}") == 2
    assert f"is the input file {source}" in capsys.readouterr().err
    assert tree(tmp_path / "data") == before


@pytest.mark.parametrize("where", ["folder", "glob"])
def test_an_output_the_next_run_would_read_back_is_refused(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, where: str
) -> None:
    """The trial's rerun that read labels.jsonl back as input ("line 8: empty text")."""
    folder = tmp_path / "in"
    table(folder / "a.csv")
    given = str(folder) if where == "folder" else f"{folder}/*.csv"
    output = folder / ("labels.jsonl" if where == "folder" else "labels.csv")
    assert predict(model_run, f"input={given}", f"output={output}") == 2
    err = capsys.readouterr().err
    said = "is inside the input folder" if where == "folder" else "matches the input glob"
    assert said in err and "the next run would read it back as input" in err
    assert f"output={tmp_path / 'labels'}" in err  # the fix names a place outside
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv"]


def test_an_output_beside_a_glob_it_does_not_match_is_written(
    model_run: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    table(folder / "a.csv")
    assert predict(model_run, f"input={folder}/*.csv", f"output={folder / 'labels.jsonl'}") == 0
    assert len((folder / "labels.jsonl").read_text().splitlines()) == 12  # 8 paragraphs, 4 docs


@pytest.mark.parametrize("inside", ["model", "folder"])
def test_an_output_in_the_model_folder_or_onto_a_folder_is_refused(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, inside: str
) -> None:
    source = table(tmp_path / "x.csv")
    output = model_run / "model" / "labels.jsonl" if inside == "model" else tmp_path
    before = tree(model_run)
    assert predict(model_run, f"input={source}", f"output={output}") == 2
    err = capsys.readouterr().err
    said = f"is inside the input folder {model_run / 'model'}" if inside == "model" else "folder"
    assert said in err and "Traceback" not in err
    assert tree(model_run) == before


def test_parquet_to_stdout_is_a_message(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = table(tmp_path / "x.csv")
    assert predict(model_run, f"input={source}", "output=-", "output_format=parquet") == 2
    err = capsys.readouterr().err
    assert "Parquet cannot go to stdout" in err and "Traceback" not in err


def test_a_run_that_fails_before_a_row_leaves_no_output_and_no_meta(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = table(tmp_path / "in" / "x.csv", bad_doc=0)  # the first document is bad
    out = tmp_path / "out"
    assert predict(model_run, f"input={source}", f"output={out / 'labels.csv'}") == 2
    assert "empty text" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())


def test_a_failed_rerun_over_a_finished_output_leaves_it_as_it_was(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good, out = table(tmp_path / "good.csv"), tmp_path / "labels.csv"
    assert predict(model_run, f"input={good}", f"output={out}") == 0
    before = tree(tmp_path)
    bad = table(tmp_path / "bad.csv", bad_doc=2)  # fails after two documents were labelled
    before[bad.name] = bad.read_bytes()
    assert predict(model_run, f"input={bad}", f"output={out}", "resume=false") == 2
    assert "empty text" in capsys.readouterr().err
    assert {k: v for k, v in tree(tmp_path).items() if not k.startswith(".")} == before
    # fixed, the rerun continues its own partial file (two documents there) and finishes it
    table(bad, bad_doc=None)
    assert predict(model_run, f"input={bad}", f"output={out}") == 0
    assert "2 documents were already there (resumed)" in capsys.readouterr().err
    straight = tmp_path / "straight.csv"
    assert predict(model_run, f"input={bad}", f"output={straight}") == 0
    assert out.read_text() == straight.read_text()


KILLED_AFTER = """
import os, runpy, signal, sys
from stance.predict.outputs import Writer
real, done = Writer.write, []
def write(self, rows):
    if len(done) == int(os.environ["KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)  # no except, no finally: as kill -9
    done.append(1)
    real(self, rows)
Writer.write = write
sys.argv = ["scripts/predict.py", *sys.argv[1:]]
runpy.run_path("scripts/predict.py", run_name="__main__")
"""


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_sigkilled_run_leaves_no_output_and_its_rerun_finishes_it(
    model_run: Path, tmp_path: Path, fmt: str
) -> None:
    source = table(tmp_path / "in.csv", docs=6)
    whole, out = tmp_path / f"whole.{fmt}", tmp_path / "out" / f"labels.{fmt}"
    assert predict(model_run, f"input={source}", f"output={whole}") == 0
    argv = [
        f"model_path={model_run}",
        f"input={source}",
        f"output={out}",
        "batch_size=2",
        "progress=false",
    ]
    env = os.environ | {"KILL_AFTER": "3", "OMP_NUM_THREADS": "1"}
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER, *argv], cwd=CONFIGS.parent,
                            env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not out.exists() and not out.with_name(out.name + META_SUFFIX).exists()
    assert predict(model_run, f"input={source}", f"output={out}") == 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(out).to_pylist() == pq.read_table(whole).to_pylist()
    else:
        assert out.read_text() == whole.read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, out.name + META_SUFFIX]


def suggest(run: Path, *args: str) -> int:
    try:
        run_script_in_process("suggest", [f"model={run}", *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


DATASET = ["dataset=csv_template", "dataset.name=tiny", "dataset.labels=[pro,anti]"]


def test_suggest_out_an_existing_file_is_a_message_not_a_traceback(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source, taken = table(tmp_path / "pool.csv"), tmp_path / "notes.txt"
    taken.write_text("my notes\n")
    args = [f"input={source}", f"out={taken}", *DATASET, f"dataset.path={source}",
            f"paths.processed_root={tmp_path / 'processed'}"]  # fmt: skip
    assert suggest(model_run, *args) == 2
    err = capsys.readouterr().err
    assert f"out={taken}: is a file" in err and "Traceback" not in err
    assert taken.read_text() == "my notes\n"


def test_suggest_never_writes_over_a_labelled_sheet_it_reads_even_with_force(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Round 2 named round 1's labelled sheet as data and out=round1: force=true would lose it."""
    round1 = tmp_path / "round1"
    sheet = table(round1 / "label_sheet.csv")
    before = tree(tmp_path)
    args = [f"input={tmp_path / 'pool.csv'}", f"out={round1}", "force=true", *DATASET,
            f"dataset.path={sheet}", f"paths.processed_root={tmp_path / 'processed'}"]  # fmt: skip
    table(tmp_path / "pool.csv")
    before["pool.csv"] = (tmp_path / "pool.csv").read_bytes()
    assert suggest(model_run, *args) == 2
    assert f"out={round1}: writes {sheet}, which is the input file {sheet}" in (
        capsys.readouterr().err
    )
    assert tree(tmp_path) == before  # nothing built, nothing written


def test_suggest_out_inside_the_input_folder_is_refused(
    model_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "articles"
    table(folder / "pool.csv")
    args = [
        f"input={folder}",
        f"out={folder / 'next_round'}",
        *DATASET,
        f"dataset.path={tmp_path / 'labels.csv'}",
        f"paths.processed_root={tmp_path / 'p'}",
    ]
    assert suggest(model_run, *args) == 2
    assert "is inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["pool.csv"]


def test_a_sheet_that_fails_half_way_leaves_the_one_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = tmp_path / "label_sheet.csv"
    sheets.write_csv(sheet, ["text", "label"], [{"text": "a", "label": "pro"}])
    before = sheet.read_bytes()

    def full_disk(self, rows) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(csv.DictWriter, "writerows", full_disk)
    with pytest.raises(OSError, match="No space"):
        sheets.write_csv(sheet, ["text", "label"], [{"text": "b", "label": ""}])
    assert sheet.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [sheet.name]  # no temp file left


def test_the_destination_check_names_what_clashes() -> None:
    from stance.predict.destinations import refuse_inputs

    with pytest.raises(StanceError, match="is the input file"):
        refuse_inputs("output", [Path("data/x.csv")], ["data/x.csv"])
    refuse_inputs("output", [Path("-")], ["-"])  # stdout and stdin: nothing to compare
