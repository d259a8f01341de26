"""One writer per run folder, and no swap leftovers (issue 22, item 5).

Two train.py on one folder both exited 0 and both wrote it ("found a running run; continuing");
a swap killed between its two renames left `.old-PID`/`.tmp-*` folders for ever.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import DatasetDict

from fixtures import tiny_dataset
from stance import folders, load_model, runs
from stance.data import build_dataset
from stance.errors import StanceError
from stance.experiment.training import train
from stance.models.sklearn_models import TfidfStanceModel
from train_helpers import CONFIGS, compose_cfg, write_csv

TINY = ["~dataset", "+dataset={name: tiny}", "evaluation.bootstrap=0", "model.char_ngrams=null"]
SCRIPT_ARGS = ["evaluation.bootstrap=0", "model.char_ngrams=null"]
ENV = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(CONFIGS.parent / "tests")}


@pytest.fixture
def tiny_data(monkeypatch: pytest.MonkeyPatch) -> DatasetDict:
    """``prepare_dataset`` returns the tiny corpus (no build)."""
    data = tiny_dataset()

    def fake(dataset_cfg, processed_root):
        return data, {"fingerprint": "fp-1", "neutral_label": None}

    monkeypatch.setattr("stance.experiment.training.prepare_dataset", fake)
    monkeypatch.setattr("stance.experiment.evaluation.prepare_dataset", fake)
    return data


def test_a_second_writer_of_a_run_folder_stops_at_once_and_writes_nothing(
    tmp_path: Path, tiny_data: DatasetDict
) -> None:
    run_dir = tmp_path / "run"
    cfg = compose_cfg("train", [*TINY, f"run_dir={run_dir}"])
    # the first train.py, still running
    with folders.writer_lock(run_dir, "train.py"), pytest.raises(StanceError) as raised:
        train(cfg)
    message = str(raised.value)
    assert f"{run_dir}: another train.py (pid {os.getpid()}" in message
    assert "is writing this run folder" in message and "run_lock.wait=true" in message
    assert not (run_dir / runs.RUN_FILE).exists() and not (run_dir / runs.MODEL_DIR).exists()
    train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"]))  # once it is gone: trains
    assert runs.is_complete(run_dir)


def test_a_folder_that_cannot_be_written_needs_no_lock(
    tmp_path: Path, tiny_data: DatasetDict, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A read-only run folder (no lock file can be made): its complete run is still skipped."""
    run_dir = tmp_path / "run"
    metrics = train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"]))

    def read_only(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(run_dir / folders.LOCK_FILE))

    monkeypatch.setattr("filelock.FileLock.acquire", read_only)
    assert train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"])) == metrics
    assert "already holds a complete run of this config; skipping" in capsys.readouterr().out


def script_env(tmp_path: Path) -> list[str]:
    """train.py's arguments for the tiny corpus, built once here so that no child builds it."""
    dataset = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    paths = [f"paths.processed_root={tmp_path / 'processed'}", f"paths.runs_root={tmp_path}/runs"]
    build_dataset(compose_cfg("train", dataset).dataset, tmp_path / "processed")
    return [*dataset, *paths, *SCRIPT_ARGS]


def start_train(argv: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, str(CONFIGS.parent / "scripts" / "train.py"), *argv],
            cwd=CONFIGS.parent, env=ENV, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip


def test_two_train_processes_on_one_folder_train_it_once(tmp_path: Path) -> None:
    """The trial's race, with real processes: one trains; the other stops (exit 2), or waits
    (run_lock.wait=true, which keeps the same folder) and then reuses the complete run."""
    argv = script_env(tmp_path)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    jobs = [start_train(argv, logs[0]), start_train([*argv, "run_lock.wait=true"], logs[1])]
    codes = [job.wait(timeout=300) for job in jobs]
    outs = [log.read_text() for log in logs]
    (run_dir,) = (tmp_path / "runs" / "tiny" / "tfidf_logreg").iterdir()  # one folder for both
    trained = [i for i, out in enumerate(outs) if "  metrics:" in out]
    assert len(trained) == 1, outs
    winner, loser = trained[0], 1 - trained[0]
    assert codes[winner] == 0 and "found a running run" not in outs[winner]
    skipped = codes[loser] == 0 and "already holds a complete run" in outs[loser]
    stopped = codes[loser] == 2 and "is writing this run folder" in outs[loser]
    assert skipped or (stopped and loser == 0), outs  # only the one without wait=true stops
    assert "Traceback" not in "".join(outs)
    assert runs.is_complete(run_dir) and load_model(run_dir).classes_ == ["pro", "anti"]


def test_a_waiting_train_starts_when_the_holder_ends(tmp_path: Path) -> None:
    argv = script_env(tmp_path)
    run_dir = tmp_path / "run"
    log = tmp_path / "train.log"
    with folders.writer_lock(run_dir, "train.py"):
        job = start_train([*argv, f"run_dir={run_dir}", "run_lock.wait=true"], log)
        deadline = time.monotonic() + 240
        while "waiting for it" not in log.read_text():
            assert job.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert not (run_dir / runs.RUN_FILE).exists()  # it waits before writing anything
    assert job.wait(timeout=300) == 0, log.read_text()
    out = log.read_text()
    assert f"another train.py (pid {os.getpid()}" in out and runs.is_complete(run_dir)


KILLED_SWAP = """
import os, signal, sys
real = os.replace
def replace(src, dst):
    if os.path.basename(str(src)).startswith(sys.argv[1]):  # the new folder, about to go in
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
exec(sys.argv[2])
"""


def kill_mid_swap(prefix: str, code: str) -> None:
    """Run ``code`` in a child killed between its two renames (old moved aside, new not in)."""
    done = subprocess.run([sys.executable, "-c", KILLED_SWAP, prefix, code], cwd=CONFIGS.parent,
                          env=ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == -9, done.stderr  # run() reaps it: its pid is no longer alive


def test_a_model_save_killed_mid_swap_is_cleaned_up_by_the_next_save(tmp_path: Path) -> None:
    model = TfidfStanceModel(target_mode="none", char_ngrams=None).fit(tiny_dataset()["train"])
    dest = tmp_path / "run" / runs.MODEL_DIR
    runs.save_model_atomic(model, dest, "# first\n")
    kill_mid_swap(".model.tmp-", (
        "from stance import runs\n"
        "from stance.models.sklearn_models import TfidfStanceModel\n"
        "from fixtures import tiny_dataset\n"
        "m = TfidfStanceModel(target_mode='none', char_ngrams=None).fit(tiny_dataset()['train'])\n"
        f"runs.save_model_atomic(m, {str(dest)!r}, '# second')\n"
    ))  # fmt: skip
    left = sorted(p.name.split("-")[0] for p in dest.parent.iterdir())
    assert left == [".model.old", ".model.tmp"]  # the kill left both, and no model/
    alive = dest.parent / f".model.tmp-{os.getpid()}-inflight"  # a live writer's: kept
    alive.mkdir()
    runs.save_model_atomic(model, dest, "# third\n")
    assert sorted(p.name for p in dest.parent.iterdir()) == [alive.name, "model"]
    assert (dest / runs.MODEL_CARD).read_text() == "# third\n" and load_model(dest).classes_


def test_a_dataset_build_killed_mid_swap_is_cleaned_up_by_the_next_build(tmp_path: Path) -> None:
    dataset = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    cfg = compose_cfg("train", dataset).dataset
    processed = tmp_path / "processed"
    build_dataset(cfg, processed)
    kill_mid_swap(".tiny.tmp-", (
        "from train_helpers import compose_cfg\n"
        "from stance.data import build_dataset\n"
        f"build_dataset(compose_cfg('train', {dataset!r}).dataset, {str(processed)!r})\n"
    ))  # fmt: skip
    stale = [p for p in processed.iterdir() if p.name.startswith((".tiny.old-", ".tiny.tmp-"))]
    assert len(stale) == 2 and not (processed / "tiny").exists()
    build_dataset(cfg, processed)
    assert not [p for p in processed.iterdir() if p.name.startswith((".tiny.old", ".tiny.tmp"))]
    assert (processed / "tiny" / "card.json").is_file()


def test_a_job_log_that_cannot_be_written_warns_and_a_complete_run_is_still_reused(
    tmp_path: Path,
) -> None:
    """The trial's read-only run folder stopped Hydra with "Unable to configure handler 'file'"
    before our code ran, even when the run would only be skipped. (Root ignores permissions, so
    the log file is made unwritable by putting a folder in its place.)"""
    argv = script_env(tmp_path)
    first = subprocess.run(
        [sys.executable, str(CONFIGS.parent / "scripts" / "train.py"), *argv],
        cwd=CONFIGS.parent, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    (run_dir,) = (tmp_path / "runs" / "tiny" / "tfidf_logreg").iterdir()
    (run_dir / "train.log").unlink()
    (run_dir / "train.log").mkdir()
    again = subprocess.run(
        [sys.executable, str(CONFIGS.parent / "scripts" / "train.py"), *argv],
        cwd=CONFIGS.parent, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "Unable to configure handler" not in again.stderr
    assert again.stderr.count("warning: no job log:") == 1 and "train.log" in again.stderr
    assert "already holds a complete run of this config; skipping" in again.stdout
