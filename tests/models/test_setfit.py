"""The SetFit family: contrastive tuning of a sentence encoder + a logistic-regression head."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict

from stance.errors import StanceError
from stance.models import health
from stance.models.setfit_model import BODY_DIR, HEAD_FILE, SetFitStanceModel
from train_helpers import compose_cfg

TINY = {"max_steps": 40, "batch_size": 8, "body_learning_rate": 1e-3, "progress_bar": False}


@pytest.fixture(scope="module")
def fitted(tiny_bert: Path, toy_split: Callable) -> SetFitStanceModel:
    model = SetFitStanceModel(encoder=str(tiny_bert), max_length=32, stride=8, **TINY)
    return model.fit(toy_split(60, 0, long_every=7), toy_split(20, 1))


def test_contrastive_tuning_lowers_the_loss_and_the_head_separates_the_labels(
    fitted: SetFitStanceModel, toy_split: Callable
) -> None:
    log = fitted.fit_log_
    assert log["steps"] == 40
    assert log["loss_last"] < 0.5 * log["loss_first"]
    # the stall check's reference is the chance loss of balanced pairs, not one noisy first batch
    assert log["chance_loss"] == 0.25
    assert health.fit_metrics(log)["health/stalled"] == float(log["loss_last"] >= 0.9 * 0.25)
    test = toy_split(30, 2)
    proba = fitted.predict_proba(test["text"], test["target"])
    assert proba.shape == (30, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert fitted.classes_ == ["pro", "anti"]  # the dataset's order, not sorted
    pred = fitted.predict(test["text"], test["target"])
    assert set(pred) == {"pro", "anti"}
    gold = np.asarray(fitted.classes_, dtype=object)[test["label"]]
    assert (pred == gold).mean() >= 0.9
    assert fitted.seen_targets_ == sorted(set(toy_split(60, 0)["target"]))


def test_long_paragraphs_are_read_in_windows_that_each_carry_the_target(
    fitted: SetFitStanceModel,
) -> None:
    long = " ".join(["the tax policy is good and we support it"] * 12)
    windows = fitted._inputs([long, "the tax plan is bad"], ["tax", "wall"])
    assert len(windows[0]) > 1 and len(windows[1]) == 1
    assert all(w.startswith("tax: ") for w in windows[0])
    assert windows[1] == ["wall: the tax plan is bad"]  # a short text is kept as written
    assert fitted.predict_proba([long], ["tax"]).shape == (1, 2)


def test_the_steps_are_capped_whatever_the_number_of_labels() -> None:
    model = SetFitStanceModel(num_iterations=20, batch_size=16, max_steps=300)
    assert model._steps(10) == math.ceil(2 * 20 * 10 / 16)  # 25: setfit's own number of pairs
    assert model._steps(5000) == 300
    assert SetFitStanceModel(max_steps=0)._steps(5000) == 12500


def test_a_model_read_on_pairs_needs_targets(fitted: SetFitStanceModel) -> None:
    with pytest.raises(StanceError, match="target"):
        fitted.predict_proba(["the tax plan is good"])


def test_a_single_label_train_split_is_a_user_error(tiny_bert: Path, toy_split: Callable) -> None:
    train = toy_split(20, 0)
    one = train.filter(lambda row: row["label"] == 0)
    with pytest.raises(StanceError, match="single label"):
        SetFitStanceModel(encoder=str(tiny_bert), **TINY).fit(one)


def test_save_and_load_give_the_same_probabilities(
    fitted: SetFitStanceModel, toy_split: Callable, tmp_path: Path
) -> None:
    from stance import models

    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / BODY_DIR / "model.safetensors").is_file()
    assert (tmp_path / "m" / HEAD_FILE).is_file()
    meta = json.loads((tmp_path / "m" / "stance_model.json").read_text())
    assert meta["family"] == "setfit" and meta["seen_targets"] == fitted.seen_targets_
    loaded = models.load(tmp_path / "m")
    test = toy_split(12, 3, long_every=3)
    np.testing.assert_allclose(
        loaded.predict_proba(test["text"], test["target"]),
        fitted.predict_proba(test["text"], test["target"]),
        atol=1e-6,
    )
    assert loaded.temperature_ == fitted.temperature_


def test_a_crafted_model_folder_is_refused(fitted: SetFitStanceModel, tmp_path: Path) -> None:
    from stance import models

    folder = tmp_path / "m"
    fitted.save(folder)
    modules = folder / BODY_DIR / "modules.json"
    entries = json.loads(modules.read_text())
    good = modules.read_text()
    entries[0]["type"] = "os.system"
    modules.write_text(json.dumps(entries))
    with pytest.raises(StanceError, match="trusted list"):
        models.load(folder)
    modules.write_text(good)

    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer

    sio.dump(TfidfVectorizer(input="filename"), folder / HEAD_FILE)
    with pytest.raises(StanceError, match="not a fitted logistic regression"):
        models.load(folder)

    meta = json.loads((folder / "stance_model.json").read_text())
    meta["params"]["cache_dir"] = "/etc"
    (folder / "stance_model.json").write_text(json.dumps(meta))
    with pytest.raises(StanceError, match="params"):
        models.load(folder)


def test_train_config_model_setfit_writes_a_run_that_load_model_reads(
    tiny_bert: Path, toy_split: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stance import load_model, runs
    from stance.experiment.training import train

    data = DatasetDict(
        train=toy_split(48, 0, long_every=5), validation=toy_split(16, 1), test=toy_split(16, 2)
    )
    monkeypatch.setattr(
        "stance.experiment.training.prepare_dataset", lambda *_: (data, {"fingerprint": "t"})
    )
    overrides = ["~dataset", "+dataset={name: toy}", "evaluation.bootstrap=0", "model=setfit"]
    overrides += [f"model.encoder={tiny_bert}", f"run_dir={tmp_path / 'run'}"]
    overrides += [f"model.{key}={json.dumps(value)}" for key, value in TINY.items()]
    metrics = train(compose_cfg("train", overrides))
    assert metrics["test/f_avg"] >= 0.75
    assert runs.read_run(tmp_path / "run")["status"] == "complete"
    stored = runs.read_predictions(tmp_path / "run", "test")
    texts, targets = [r["text"] for r in stored], [r["target"] for r in stored]
    assert list(load_model(tmp_path / "run").predict(texts, targets)) == [r["pred"] for r in stored]


@pytest.mark.slow
def test_packaged_minilm_learns_three_classes_from_150_rows(toy_split: Callable) -> None:
    """The issue's small-data stall check for this family, on the real encoder."""
    from fixtures import tiny_split

    train = tiny_split(150, 0, ("anti", "neutral", "pro"))
    test = tiny_split(60, 2, ("anti", "neutral", "pro"))
    model = SetFitStanceModel(max_steps=60, progress_bar=False).fit(train)
    assert model.fit_log_["loss_last"] < model.fit_log_["loss_first"]
    pred = model.predict(test["text"], test["target"])
    assert len(set(pred)) > 1


def test_a_saved_setfit_model_is_served(fitted: SetFitStanceModel, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from stance.config_schemas import ServeConfig
    from stance.predict import load_model
    from stance.serve.service import create_app

    fitted.save(tmp_path / "m")
    app = create_app(load_model(tmp_path / "m"), ServeConfig())
    texts = ["the tax policy is good and we support it", "the wall plan is bad and harms it"]
    body = {"texts": texts, "targets": ["tax", "wall"]}
    response = TestClient(app).post("/predict", json=body)
    assert response.status_code == 200, response.text
    served = [row["label"] for row in response.json()["predictions"]]
    assert served == list(fitted.predict(texts, ["tax", "wall"]))


def test_a_body_with_a_normalize_module_loads_back(tiny_bert: Path, tmp_path: Path) -> None:
    """all-MiniLM-L6-v2 ends in a Normalize module: a SetFit model tuned from it must load."""
    from sentence_transformers.models import Normalize

    from stance.models.setfit_folder import load_body

    body = load_body(str(tiny_bert), "test")
    body.append(Normalize())
    body.save(str(tmp_path / "body"))
    loaded = load_body(str(tmp_path / "body"), "test")
    assert [type(m).__name__ for m in loaded] == ["Transformer", "Pooling", "Normalize"]
