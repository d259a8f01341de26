"""Temperature scaling for the linear and hybrid families: fitted on validation, never on test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from datasets import Dataset

from stance import models
from stance.experiment.evaluation import evaluate
from stance.models.calibration import temper
from stance.models.hybrid import HybridStanceModel
from stance.models.sklearn_models import TfidfStanceModel
from stance.scoring.metrics import expected_calibration_error


def noisy(split: Dataset, every: int = 4) -> Dataset:
    """``split`` with every ``every``-th label flipped: a model that memorises it is too sure."""

    def flip(row: dict, i: int) -> dict:
        return {"label": 1 - row["label"] if i % every == 0 else row["label"]}

    return split.map(flip, with_indices=True)


def ece(model, split: Dataset, calibrated: bool) -> float:
    proba = model.predict_proba(split["text"], split["target"], calibrated=calibrated)
    return expected_calibration_error(np.asarray(split["label"]), proba)


def test_temper_keeps_zeros_and_argmax() -> None:
    proba = np.array([[0.9, 0.1, 0.0], [0.2, 0.5, 0.3]])
    soft = temper(proba, 3.0)
    assert np.allclose(soft.sum(axis=1), 1) and soft[0, 2] == 0
    assert (soft.argmax(axis=1) == proba.argmax(axis=1)).all() and soft[0, 0] < 0.9


def test_tfidf_temperature_from_validation_lowers_test_ece(toy_split, tmp_path: Path) -> None:
    train, val, test = noisy(toy_split(120, 0)), noisy(toy_split(80, 1)), noisy(toy_split(80, 2))
    model = TfidfStanceModel(C=100.0, target_mode="none").fit(train, val)
    assert model.temperature_ > 1  # memorised noise: too confident, so softened
    assert ece(model, test, calibrated=True) < ece(model, test, calibrated=False)
    assert TfidfStanceModel(C=100.0, target_mode="none").fit(train).temperature_ == 1.0
    uncalibrated = TfidfStanceModel(C=100.0, target_mode="none", calibrate=False).fit(train, val)
    assert uncalibrated.temperature_ == 1.0
    model.save(tmp_path / "model")
    again = models.load(tmp_path / "model")
    assert again.temperature_ == model.temperature_
    assert np.allclose(again.predict_proba(test["text"]), model.predict_proba(test["text"]))
    # metrics.json: ECE after (`ece`) and before (`ece_uncalibrated`) the temperature
    metrics = evaluate(model, {"validation": val, "test": test}, n_bootstrap=0)
    assert metrics["test/ece"] < metrics["test/ece_uncalibrated"]
    assert metrics["test/temperature"] == model.temperature_


def test_hybrid_ece_falls_after_calibration(tiny_bert: Path, toy_split) -> None:
    train, val, test = noisy(toy_split(96, 0)), noisy(toy_split(64, 1)), noisy(toy_split(64, 2))
    model = HybridStanceModel(encoder=str(tiny_bert), char_ngrams=None, C=100.0)
    model.fit(train, val)
    assert model.temperature_ != 1.0
    assert ece(model, test, calibrated=True) < ece(model, test, calibrated=False)


def test_svm_is_calibrated_on_validation_too(toy_split) -> None:
    train, val = noisy(toy_split(90, 0)), noisy(toy_split(60, 1))
    model = TfidfStanceModel(classifier="svm", C=10.0, target_mode="none").fit(train, val)
    assert model.temperature_ != 1.0
