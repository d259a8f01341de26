"""compare: interrupted runs apart (never ranked, left out unless asked), numbers written one way
(model.C=4 and model.C=4.0 are one config), and a new output folder per call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from fixtures import flip, gold_labels
from stance.compare import compare, register_schema
from stance.compare.report import write_report
from stance.runs import slug
from train_helpers import CONFIGS, run_script_in_process

LABELS = ["anti", "pro"]
GOLD = gold_labels(60, 3, LABELS)


def write_run(folder: Path, overrides: list[str], status: str = "complete", seed: int = 0) -> Path:
    """A binary run record; a complete one with predictions right on ~90% of the rows (which
    ones drawn from ``seed``, never from the folder: its tmp path differs between sessions)."""
    folder.mkdir(parents=True)
    if status == "complete":
        pred = flip(GOLD, 0.1, seed)
        rows = [
            {"id": f"x{i}", "gold": g, "pred": p}
            for i, (g, p) in enumerate(zip(GOLD, pred, strict=True))
        ]
        (folder / "predictions").mkdir()
        (folder / "predictions" / "test.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows)
        )
        score = float((pred == GOLD).mean())
        metrics = {f"test/{m}": score for m in ("f_avg", "f1_macro", "accuracy")}
        (folder / "metrics.json").write_text(json.dumps(metrics))
    record = {"status": status, "dataset": "demo", "dataset_fingerprint": "fp", "labels": LABELS,
              "neutral_label": None, "seed": 0, "overrides": overrides}  # fmt: skip
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def settings(tmp_path: Path, *overrides: str):
    """The real compare.yaml with overrides, as its schema object."""
    register_schema()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose("compare", overrides=[f"out_dir={tmp_path / 'cmp'}", *overrides])
    return OmegaConf.to_object(cfg)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two configs; one interrupted run of the first, and a config with only an interrupted run."""
    runs = tmp_path / "runs"
    write_run(runs / "a1", ["model=a", "seed=1"])
    write_run(runs / "a2", ["model=a", "seed=2"], status="interrupted")
    write_run(runs / "b1", ["model=b", "seed=1"])
    write_run(runs / "c1", ["model=c", "seed=1"], status="interrupted")
    write_run(runs / "d1", ["model=d", "seed=1"], status="running")
    return runs


def test_interrupted_runs_are_left_out_by_default_and_counted(root, tmp_path):
    cfg = settings(tmp_path, f"runs=[{root}]")
    [section] = compare(cfg)
    table = {r["config"]: r for r in section.table.to_dict("records")}
    assert set(table) == {"model=a", "model=b", "model=d"}  # c had only an interrupted run
    assert table["model=a"]["not_complete"] == ""  # the interrupted seed is not "not complete"
    assert table["model=d"]["not_complete"] == "1 running"
    assert sorted(r.path.name for r in section.interrupted) == ["a2", "c1"]
    text = write_report([section], cfg)["md"].read_text()
    assert "2 interrupted runs left out (include_interrupted=true lists them)." in text
    assert "a2" not in text and "c1" not in text


def test_interrupted_runs_are_listed_apart_when_asked(root, tmp_path):
    cfg = settings(tmp_path, f"runs=[{root}]", "include_interrupted=true")
    [section] = compare(cfg)
    assert "model=c" not in set(section.table["config"])  # listed, never ranked
    text = write_report([section], cfg)["md"].read_text()
    listed = text.split("Interrupted runs (stopped by SIGTERM or Ctrl-C;")[1]
    assert f"- `{root / 'a2'}`" in listed and f"- `{root / 'c1'}`" in listed
    assert f"`{root / 'd1'}`: running" in text.split("Interrupted runs")[0]


def test_four_and_four_point_oh_are_one_config(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "x1", ["model.C=4", "seed=1"])
    write_run(runs / "x2", ["model.C=4.0", "seed=2"])
    write_run(runs / "y1", ["model.C=1e-3", "seed=1"])
    [section] = compare(settings(tmp_path, f"runs=[{runs}]", "+where.model.C=[4.0,0.001]"))
    assert sorted(section.table["config"]) == ["model.C=0.001", "model.C=4"]
    assert dict(zip(section.table["config"], section.table["seeds"], strict=True))["model.C=4"] == 2
    assert slug("model.C=4.0,seed=1") == slug("model.C=4,seed=1") == "model.C-4+seed-1"
    assert slug("lr=2.0e-05") == "lr-2e-05" and slug("runs/v1.0/x") == "runs_v1.0_x"


def test_each_call_writes_a_new_folder_unless_named(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_script_in_process("compare", [f"runs=[{root}]", "hydra.job_logging.root.level=WARN"])
    first = sorted((tmp_path / "comparison").iterdir())
    assert len(first) == 1 and (first[0] / "comparison.md").is_file()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", first[0].name
    )  # comparison/<date>_<time>
    (first[0] / "comparison.md").write_text("kept")
    run_script_in_process("compare", [f"runs=[{root}]", "out_dir=named"])
    assert (tmp_path / "named" / "comparison.md").is_file()
    assert (first[0] / "comparison.md").read_text() == "kept"
