"""model=ensemble: soft voting over saved runs' models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import stance
from fixtures import tiny_split
from stance.errors import StanceError
from stance.models.ensemble import EnsembleStanceModel
from stance.models.sklearn_models import TfidfStanceModel


def saved_run(folder: Path, labels: tuple[str, ...], classifier: str) -> Path:
    """A run directory holding only ``model/``: a small TF-IDF model trained on ``labels``."""
    model = TfidfStanceModel(classifier=classifier, char_ngrams=None, target_mode="none")
    model.fit(tiny_split(60, 0, labels)).save(folder / "model")
    return folder


@pytest.fixture
def members(tmp_path):
    """Two runs whose models list the same labels in opposite orders."""
    saved_run(tmp_path / "runs" / "a", ("pro", "anti"), "logreg")
    saved_run(tmp_path / "runs" / "b", ("anti", "pro"), "svm")
    return tmp_path / "runs"


def test_mean_of_members_aligned_by_label(members):
    test = tiny_split(60, 1)
    ensemble = EnsembleStanceModel([str(members / "*")]).fit(tiny_split(60, 0))
    assert ensemble.members_ == [str(members / "a"), str(members / "b")]
    texts = list(test["text"])
    a = TfidfStanceModel.load(members / "a" / "model").predict_proba(texts)  # pro, anti
    b = TfidfStanceModel.load(members / "b" / "model").predict_proba(texts)  # anti, pro
    expected = (a + b[:, ::-1]) / 2
    np.testing.assert_allclose(ensemble.predict_proba(texts), expected)
    assert ensemble.classes_ == ["pro", "anti"]


def test_weights_and_round_trip(members, tmp_path):
    train = tiny_split(60, 0)
    texts = list(tiny_split(60, 1)["text"])[:10]
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
    train = tiny_split(60, 0)
    with pytest.raises(StanceError, match="matches no run directory"):
        EnsembleStanceModel([str(tmp_path / "nothing" / "*")]).fit(train)
    with pytest.raises(StanceError, match="weights"):
        EnsembleStanceModel([str(members / "*")], weights=[1.0]).fit(train)
    saved_run(tmp_path / "three", ("pro", "anti", "neutral"), "logreg")
    with pytest.raises(StanceError, match="differ from the dataset"):
        EnsembleStanceModel([str(members / "a"), str(tmp_path / "three")]).fit(train)
