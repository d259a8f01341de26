"""Transformer schedules that fit the run: intervals per epoch or per run, a time budget, an
estimate before training."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stance.errors import StanceError
from stance.models import health
from stance.models.transformer.model import TransformerStanceModel
from stance.models.transformer.progress import about
from stance.models.transformer.settings import TrainSettings


def test_validation_intervals_fit_the_run() -> None:
    # 6,768 steps (the run) would validate 338 times every 20 steps: 20 passes instead
    long = TrainSettings(max_steps=6768).scheduled(n_windows=10_000)
    assert long.eval_steps == 339 and long.save_steps == 339
    assert TrainSettings(max_steps=200).scheduled(1000).eval_steps == 20  # short: unchanged
    assert TrainSettings(max_steps=6768, max_evals=None).scheduled(10_000).eval_steps == 20
    # 1,000 windows in batches of 16: 63 steps an epoch, validated twice an epoch
    twice = TrainSettings(evals_per_epoch=2, save_steps=40).scheduled(1000)
    assert twice.eval_steps == 32 and twice.save_steps == 64  # checkpoints: still every other
    assert TrainSettings(epochs=4, min_steps=0).total_steps(1000) == 252
    with pytest.raises(StanceError, match=r"model\.max_minutes"):
        TrainSettings(max_minutes=0)


def test_estimates_are_said_plainly() -> None:
    assert about(40) == "about 40 s" and about(720) == "about 12 minutes"
    assert about(41_000) == "about 11.4 hours"  # the 11 h 24 min


def test_max_minutes_stops_training_in_time_and_says_so(
    tiny_bert: Path, toy_split: Callable, capfd: pytest.CaptureFixture
) -> None:
    model = TransformerStanceModel(
        pretrained=str(tiny_bert),
        max_length=32,
        stride=8,
        batch_size=8,
        max_steps=100_000,  # hours of training without the budget
        max_minutes=0.02,  # 1.2 s
        eval_steps=8,
        save_steps=8,
        logging_steps=5,
        progress_bar=False,
        early_stopping_patience=None,
    )
    start = time.monotonic()
    model.fit(toy_split(32, 0), toy_split(16, 1))
    assert time.monotonic() - start < 60
    assert model.fit_log_["stopped_on_budget"] == 1.0
    assert 0 < model.fit_log_["steps"] < 100_000
    err = capfd.readouterr().err
    assert "training: about " in err and " on this machine" in err
    assert "model.max_minutes" in err
    assert "training stopped on the time budget (model.max_minutes=0.02)" in err
    assert "the best checkpoint (checkpoint-" in err  # validated at the stop, then kept
    metrics = health.fit_metrics(model.fit_log_)
    assert metrics["train/stopped_on_budget"] == 1.0
    assert any("time budget" in line for line in health.warnings(metrics))
    # without a budget the same run is not flagged
    short = TransformerStanceModel(
        pretrained=str(tiny_bert), max_length=32, stride=8, max_steps=2, progress_bar=False
    )
    assert short.fit(toy_split(16, 0)).fit_log_["stopped_on_budget"] == 0.0


def test_a_train_run_on_a_budget_says_so_in_run_json_and_metrics(
    tiny_bert: Path, toy_split: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datasets import DatasetDict

    from stance import runs
    from stance.experiment.training import train
    from train_helpers import compose_cfg

    data = DatasetDict(train=toy_split(32, 0), validation=toy_split(16, 1), test=toy_split(16, 2))
    monkeypatch.setattr(
        "stance.experiment.training.prepare_dataset", lambda *_: (data, {"fingerprint": "toy"})
    )
    overrides = ["~dataset", "+dataset={name: toy}", "evaluation.bootstrap=0", "model=transformer"]
    overrides += [f"model.pretrained={tiny_bert}", "model.max_length=32", "model.stride=8"]
    overrides += ["model.max_steps=100000", "model.max_minutes=0.02", "model.progress_bar=false"]
    start = time.monotonic()
    train(compose_cfg("train", [*overrides, f"run_dir={tmp_path}"]))
    assert time.monotonic() - start < 120
    assert runs.read_metrics(tmp_path)["train/stopped_on_budget"] == 1.0
    assert any("time budget" in line for line in runs.read_run(tmp_path)["warnings"])
