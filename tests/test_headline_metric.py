"""One headline metric per dataset (`dataset.metric`): validated, stored in the card and run.json,
and what the summary, report.html's heading and compare's default ranking use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from fixtures import tiny_dataset
from stance.compare import compare, register_schema
from stance.compare.report import write_report
from stance.data.build import build_dataset
from stance.data.card import config_fingerprint, read_card
from stance.data.schema import as_dataset_config, config_dict
from stance.errors import StanceError
from stance.experiment import training
from stance.experiment.run_report import write_run_report
from stance.scoring.metrics import batch_metric
from train_helpers import CONFIGS, compose_cfg, write_csv

LABELS = ["anti", "neutral", "pro"]
# 100 rows of each label; A: the stance labels right, neutral split between them (F_avg 0.80,
# macro-F1 0.53); B: neutral right, 60% of the stance rows right, the rest neutral (F_avg 0.75,
# macro-F1 0.74). F_avg ranks A first, macro-F1 B.
GOLD = np.repeat(LABELS, 100)
PRED_A = np.concatenate([["anti"] * 100, ["anti", "pro"] * 50, ["pro"] * 100])
PRED_B = np.concatenate([["anti"] * 60 + ["neutral"] * 40, ["neutral"] * 100,
                         ["pro"] * 60 + ["neutral"] * 40])  # fmt: skip


def write_run(folder: Path, model: str, pred: np.ndarray, metric: str | None) -> None:
    """A complete run record on the 3-way test set; ``metric``: what its run.json records."""
    (folder / "predictions").mkdir(parents=True)
    rows = [
        {"id": f"x{i}", "gold": g, "pred": p}
        for i, (g, p) in enumerate(zip(GOLD, pred, strict=True))
    ]
    (folder / "predictions" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    index = {label: i for i, label in enumerate(LABELS)}
    gold, guess = np.array([index[g] for g in GOLD]), np.array([index[p] for p in pred])
    scores = {f"test/{m}": float(batch_metric(m, LABELS, "neutral")(gold, guess))
              for m in ("f_avg", "f1_macro", "accuracy")}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(scores))
    record = {"status": "complete", "dataset": "three", "dataset_fingerprint": "fp3",
              "labels": LABELS, "neutral_label": "neutral", "seed": 0,
              "overrides": [f"model={model}"]}  # fmt: skip
    if metric is not None:
        record["metric"] = metric
    (folder / "run.json").write_text(json.dumps(record))


def settings(tmp_path: Path, *overrides: str):
    """The real compare.yaml with overrides, as its schema object."""
    register_schema()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose("compare", overrides=[f"out_dir={tmp_path / 'cmp'}", *overrides])
    return OmegaConf.to_object(cfg)


def test_compare_ranks_by_the_metric_the_runs_record(tmp_path):
    write_run(tmp_path / "runs" / "a", "a", PRED_A, "f1_macro")
    write_run(tmp_path / "runs" / "b", "b", PRED_B, "f1_macro")
    cfg = settings(tmp_path, f"runs=[{tmp_path / 'runs'}]")
    [section] = compare(cfg)
    assert cfg.headline == "test/f1_macro"
    assert list(section.table["config"]) == ["model=b", "model=a"]
    assert section.table.loc[0, "best"]
    text = write_report([section], cfg)["md"].read_text()
    assert "test/f1_macro" in text and "ci_low" not in text
    # the same runs under F_avg (named, or recorded by runs from before `metric`) rank A first
    [by_f_avg] = compare(settings(tmp_path, f"runs=[{tmp_path / 'runs'}]", "headline=test/f_avg"))
    assert list(by_f_avg.table["config"]) == ["model=a", "model=b"]


def test_runs_from_before_the_metric_rank_by_f_avg(tmp_path):
    write_run(tmp_path / "runs" / "a", "a", PRED_A, None)
    write_run(tmp_path / "runs" / "b", "b", PRED_B, None)
    cfg = settings(tmp_path, f"runs=[{tmp_path / 'runs'}]")
    [section] = compare(cfg)
    assert cfg.headline == "test/f_avg"
    assert list(section.table["config"]) == ["model=a", "model=b"]


def test_runs_with_different_metrics_are_not_ranked_together_silently(tmp_path, caplog):
    write_run(tmp_path / "runs" / "a", "a", PRED_A, "f_avg")
    write_run(tmp_path / "runs" / "b", "b", PRED_B, "f1_macro")
    with pytest.raises(
        StanceError, match=r"(?s)different headline metrics.*headline=test/f1_macro"
    ):
        compare(settings(tmp_path, f"runs=[{tmp_path / 'runs'}]"))
    compare(settings(tmp_path, f"runs=[{tmp_path / 'runs'}]", "headline=test/accuracy"))
    assert "ranking by test/accuracy, not by the runs' own metric f1_macro, f_avg" in caplog.text


def test_metric_is_validated_against_the_registry():
    node = {"name": "x", "format": "csv", "path": "x.csv", "labels": ["a", "b"]}
    assert as_dataset_config(node).metric == "f_avg"
    with pytest.raises(StanceError, match="f_avg, f1_macro, accuracy"):
        as_dataset_config({**node, "metric": "f1"})


def test_card_states_the_metric_and_old_builds_stay_current(tmp_path):
    data = tiny_dataset(("anti", "neutral", "pro"), n=60)
    overrides = write_csv(data, tmp_path / "tiny.csv")
    cfg = compose_cfg("train", [*overrides, "dataset.metric=f1_macro"])
    folder = build_dataset(cfg.dataset, tmp_path / "processed")
    assert read_card(folder)["config"]["metric"] == "f1_macro"
    assert "Headline metric: f1_macro." in (folder / "card.md").read_text()
    # a default-metric config hashes as a config from before the key existed
    plain = config_dict(as_dataset_config(compose_cfg("train", overrides).dataset))
    old = {k: v for k, v in plain.items() if k != "metric"}
    assert config_fingerprint(plain, "h") == config_fingerprint(old, "h")
    assert config_fingerprint({**plain, "metric": "f1_macro"}, "h") != config_fingerprint(old, "h")


def test_training_follows_the_datasets_metric(tmp_path, capsys):
    here = f"run_dir={tmp_path}"
    cfg = compose_cfg("train", [here, "model=transformer", "dataset.metric=f1_macro"])
    before = training.config_hash(cfg)
    training.follow_dataset_metric(cfg)
    assert cfg.model.metric_for_best_model == "f1_macro"
    assert training.config_hash(cfg) != before
    named = compose_cfg(
        "train", [here, "model=transformer", "model.metric_for_best_model=accuracy"]
    )
    training.follow_dataset_metric(named)
    assert named.model.metric_for_best_model == "accuracy"  # a model's own choice is kept
    # runs from before `dataset.metric` keep their hash (reused, not retrained)
    default = compose_cfg("train", [here])
    old = OmegaConf.to_container(default)
    del old["dataset"]["metric"]
    assert training.config_hash(default) == training.config_hash(OmegaConf.create(old))
    metrics = {"test/f_avg": 0.8, "test/f1_macro": 0.53, "validation/f1_macro": 0.5}
    training.print_summary(tmp_path, metrics, metric="f1_macro")
    assert "(test/f1_macro=0.530, test/f_avg=0.800" in capsys.readouterr().out


def test_report_heading_names_the_metric(tmp_path):
    gold = np.array([0, 1, 2, 2])
    proba = np.eye(3)[[0, 1, 2, 1]]
    metrics = {"test/f_avg": 0.75, "test/f1_macro": 0.611, "test/n": 4}
    metrics |= {f"test/{s}/{c}": 0.5 for s in ("precision", "recall", "f1") for c in LABELS}
    metrics |= {f"test/support/{c}": 1 for c in LABELS}
    splits = {"test": (gold, proba, [])}
    page = write_run_report(tmp_path, "t", metrics, splits, LABELS, "f1_macro").read_text()
    assert "<h2>test: macro-F1 0.611</h2>" in page
    (tmp_path / "run.json").write_text(json.dumps({"metric": "f1_macro"}))  # the run's record
    assert (
        "<h2>test: macro-F1 0.611"
        in write_run_report(tmp_path, "t", metrics, splits, LABELS).read_text()
    )
    (tmp_path / "run.json").unlink()
    assert (
        "<h2>test: F_avg 0.750"
        in write_run_report(tmp_path, "t", metrics, splits, LABELS).read_text()
    )


def test_the_model_card_leads_with_the_datasets_metric() -> None:
    from stance.experiment.model_card import model_card

    metrics = {"test/f_avg": 0.6, "test/f1_macro": 0.7, "test/f1_macro_ci_low": 0.65}
    card = model_card({"metric": "f1_macro"}, OmegaConf.create({"seed": 0}), metrics)
    rows = [line for line in card.splitlines() if line.startswith("| test/")]
    assert rows[:2] == ["| test/f1_macro | 0.7000 |", "| test/f1_macro_ci_low | 0.6500 |"]
    assert "- headline metric: f1_macro" in card
    assert "| test/f_avg | 0.6000 |" in rows
