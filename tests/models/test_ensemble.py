"""model=ensemble: soft voting over saved runs' models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value

import stance
from stance.errors import StanceError
from stance.models.ensemble import EnsembleStanceModel
from stance.models.sklearn_models import TfidfStanceModel

CUES = {"pro": "support", "anti": "oppose", "neutral": "describe"}


def split(labels: tuple[str, ...], n: int = 60, seed: int = 0) -> Dataset:
    """``n`` short texts whose cue word gives the label (1 in 5 labels flipped, so probas vary)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(len(labels), size=n)
    noisy = np.where(rng.random(n) < 0.2, rng.integers(len(labels), size=n), y)
    texts = [f"the senator said we {CUES[labels[i]]} the plan number {k}" for k, i in enumerate(y)]
    features = Features(text=Value("string"), label=ClassLabel(names=list(labels)))
    return Dataset.from_dict({"text": texts, "label": noisy.tolist()}, features=features)


def saved_run(folder: Path, labels: tuple[str, ...], classifier: str) -> Path:
    """A run directory holding only ``model/``: a small TF-IDF model trained on ``labels``."""
    model = TfidfStanceModel(classifier=classifier, char_ngrams=None, target_mode="none")
    model.fit(split(labels)).save(folder / "model")
    return folder


@pytest.fixture
def members(tmp_path):
    """Two runs whose models list the same labels in opposite orders."""
    saved_run(tmp_path / "runs" / "a", ("pro", "anti"), "logreg")
    saved_run(tmp_path / "runs" / "b", ("anti", "pro"), "svm")
    return tmp_path / "runs"


def test_mean_of_members_aligned_by_label(members):
    test = split(("pro", "anti"), seed=1)
    ensemble = EnsembleStanceModel([str(members / "*")]).fit(split(("pro", "anti")))
    assert ensemble.members_ == [str(members / "a"), str(members / "b")]
    texts = list(test["text"])
    a = TfidfStanceModel.load(members / "a" / "model").predict_proba(texts)  # pro, anti
    b = TfidfStanceModel.load(members / "b" / "model").predict_proba(texts)  # anti, pro
    expected = (a + b[:, ::-1]) / 2
    np.testing.assert_allclose(ensemble.predict_proba(texts), expected)
    assert ensemble.classes_ == ["pro", "anti"]


def test_weights_and_round_trip(members, tmp_path):
    train = split(("pro", "anti"))
    texts = list(split(("pro", "anti"), seed=1)["text"])[:10]
    only_a = EnsembleStanceModel([str(members / "a"), str(members / "b")], weights=[1, 0])
    only_a.fit(train)
    a = TfidfStanceModel.load(members / "a" / "model").predict_proba(texts)
    np.testing.assert_allclose(only_a.predict_proba(texts), a)
    only_a.save(tmp_path / "ensemble")
    again = EnsembleStanceModel.load(tmp_path / "ensemble")
    np.testing.assert_allclose(again.predict_proba(texts), a)
    # The folder also loads through the family registry, as scripts/predict.py does.
    loaded = stance.load_model(tmp_path / "ensemble")
    np.testing.assert_allclose(loaded.predict_proba(texts), a)


def test_bad_members_are_clear_errors(members, tmp_path):
    train = split(("pro", "anti"))
    with pytest.raises(StanceError, match="matches no run directory"):
        EnsembleStanceModel([str(tmp_path / "nothing" / "*")]).fit(train)
    with pytest.raises(StanceError, match="weights"):
        EnsembleStanceModel([str(members / "*")], weights=[1.0]).fit(train)
    saved_run(tmp_path / "three", ("pro", "anti", "neutral"), "logreg")
    with pytest.raises(StanceError, match="differ from the dataset"):
        EnsembleStanceModel([str(members / "a"), str(tmp_path / "three")]).fit(train)
