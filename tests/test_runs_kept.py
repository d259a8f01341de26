"""A retrain on changed data keeps the complete run of the earlier data and goes next to it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from datasets import DatasetDict

from fixtures import tiny_dataset
from stance import load_model, runs
from stance.data import read_card
from stance.experiment.training import train
from train_helpers import compose_cfg, run_script_in_process, write_csv

TINY = ["~dataset", "+dataset={name: tiny}", "evaluation.bootstrap=0", "model.char_ngrams=null"]


def snapshot(run_dir: Path) -> dict[str, str]:
    """A digest of every file of the run record (Hydra's own .hydra/ and job log left out)."""
    files = [p for p in run_dir.rglob("*") if p.is_file() and ".hydra" not in p.parts]
    files = [p for p in files if p.suffix != ".log"]
    return {str(p.relative_to(run_dir)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


def test_script_keeps_the_run_of_the_earlier_data(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    csv, first = tmp_path / "tiny.csv", tmp_path / "runs" / "tiny" / "tfidf_logreg" / "default"
    argv = [
        *write_csv(tiny_dataset(n=120), csv),
        f"paths.processed_root={tmp_path / 'processed'}",
        f"hydra.run.dir={first}",  # as Hydra picks it, shorter than the overrides' own name
        "evaluation.bootstrap=0",
        "model.char_ngrams=null",
    ]
    run_script_in_process("train", argv)
    kept, record = snapshot(first), runs.read_run(first)
    card = read_card(tmp_path / "processed" / "tiny")
    assert record["dataset_round"] == runs.dataset_round(card)
    assert record["dataset_built_at"] and record["dataset_fingerprint"]
    capsys.readouterr()

    write_csv(tiny_dataset(n=150), csv)  # more labels: the dataset is rebuilt with new content
    run_script_in_process("train", argv)
    out = capsys.readouterr().out
    card = read_card(tmp_path / "processed" / "tiny")
    second = first.with_name(f"{first.name}.round-{runs.dataset_round(card)['index']}")
    assert f"{first}: holds a complete run of other data" in out and f"goes to {second}" in out
    assert snapshot(first) == kept  # run.json, config.yaml, metrics, predictions, model
    assert load_model(first).predict(["we support the senator"])[0] in {"pro", "anti"}
    moved = runs.read_run(second)
    assert moved["status"] == "complete" and moved["run_dir"] == str(second)
    assert moved["dataset_fingerprint"] == card["fingerprint"] != record["dataset_fingerprint"]
    assert runs.read_config(second).run_dir == str(second)
    assert (second / ".hydra" / "overrides.yaml").is_file()  # its own copy of the job's Hydra files

    run_script_in_process("train", argv)  # the same data again: the round folder's run is reused
    assert f"{second}: already holds a complete run" in capsys.readouterr().out
    run_script_in_process("train", [*argv, "rerun=true"])  # rerun on the same data: in place
    assert "skipping" not in capsys.readouterr().out and runs.is_complete(second)
    assert snapshot(first) == kept
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name, second.name]


@pytest.fixture
def cards(monkeypatch: pytest.MonkeyPatch):
    """Make ``prepare_dataset`` return a tiny dataset with a card of the given round."""

    def install(fingerprint: str, index: int, data: DatasetDict | None = None) -> None:
        card = {
            "fingerprint": fingerprint,
            "neutral_label": None,
            "built_at": f"2026-12-0{index + 1}T10:00:00+00:00",
            "round": {"name": f"round {index}", "index": index, "files": ["a.csv"]},
        }
        chosen = data if data is not None else tiny_dataset()
        monkeypatch.setattr("stance.experiment.training.prepare_dataset", lambda *_: (chosen, card))

    return install


def test_round_folder_then_fingerprint_and_the_round_in_the_record(tmp_path: Path, cards) -> None:
    run_dir = tmp_path / "default"
    cfg = compose_cfg("train", [*TINY, f"run_dir={run_dir}"])
    cards("aaaaaaaa0000", 0)
    train(cfg)
    cards("bbbbbbbb0000", 1)
    train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"]))
    assert runs.read_run(run_dir)["dataset_fingerprint"] == "aaaaaaaa0000"
    info = runs.read_run(tmp_path / "default.round-1")
    assert info["dataset_round"] == {"name": "round 1", "index": 1}
    assert info["dataset_built_at"] == "2026-12-02T10:00:00+00:00"
    card = (tmp_path / "default.round-1" / "model" / "README.md").read_text()
    assert "labelling round: round 1 (built 2026-12-02)" in card

    cards("cccccccc0000", 1)  # round 1 relabelled: both folders hold other data
    train(compose_cfg("train", [*TINY, f"run_dir={run_dir}", "rerun=true"]))
    assert runs.read_run(tmp_path / "default.round-1")["dataset_fingerprint"] == "bbbbbbbb0000"
    assert runs.is_complete(tmp_path / "default.round-1-cccccccc")


def test_a_failed_run_of_other_data_is_trained_over_in_place(tmp_path: Path, cards) -> None:
    cards("aaaaaaaa0000", 0)
    train(compose_cfg("train", [*TINY, f"run_dir={tmp_path / 'default'}"]))
    record = runs.read_run(tmp_path / "default")
    runs.end_run(tmp_path / "default", record, "failed")  # e.g. killed: nothing worth keeping
    cards("bbbbbbbb0000", 1)
    train(compose_cfg("train", [*TINY, f"run_dir={tmp_path / 'default'}"]))
    assert runs.read_run(tmp_path / "default")["dataset_fingerprint"] == "bbbbbbbb0000"
    assert not (tmp_path / "default.round-1").exists()
