"""ONNX export of the SetFit family: the tuned encoder as a graph, the head and windows as data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stance.errors import StanceError
from stance.models.onnx_runtime import EXPORT_META
from stance.models.onnx_setfit import OnnxSetFitModel, open_export
from stance.models.setfit_model import SetFitStanceModel

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")  # torch.onnx's exporter

TINY = {"max_steps": 30, "batch_size": 8, "body_learning_rate": 1e-3, "progress_bar": False}


@pytest.fixture(scope="module")
def fitted(tiny_bert: Path, toy_split: Callable) -> SetFitStanceModel:
    model = SetFitStanceModel(encoder=str(tiny_bert), max_length=32, stride=8, **TINY)
    model.embed_batch_size = 5  # several batches of different widths
    return model.fit(toy_split(40, 0, long_every=5), toy_split(16, 1))


def test_onnx_setfit_gives_the_windows_and_probabilities_of_the_saved_model(
    fitted: SetFitStanceModel, toy_split: Callable, tmp_path: Path
) -> None:
    from stance.export.onnx import export_onnx

    meta = export_onnx(fitted, tmp_path)
    assert meta["kind"] == "setfit" and meta["output"] == "sentence_embedding"
    onnx = open_export(tmp_path)
    assert isinstance(onnx, OnnxSetFitModel)

    validation = toy_split(20, 3, long_every=3)
    texts, targets = list(validation["text"]), list(validation["target"])
    windows = fitted._inputs(texts, targets)
    assert max(len(w) for w in windows) >= 3  # long paragraphs are read in several windows
    assert onnx.inputs(texts, targets) == windows  # tokenizer.json alone cuts the same windows

    reference = fitted.predict_proba(texts, targets)
    assert np.ptp(reference[:, 0]) > 0.05  # far from uniform: the comparison can fail
    np.testing.assert_allclose(onnx.predict_proba(texts, targets), reference, atol=1e-4, rtol=0)
    assert list(onnx.predict(texts, targets)) == list(fitted.predict(texts, targets))
    with pytest.raises(StanceError, match="target"):
        onnx.predict(texts)


def test_export_model_checks_a_saved_setfit_model_on_validation_before_writing(
    fitted: SetFitStanceModel, toy_split: Callable, tmp_path: Path, monkeypatch
) -> None:
    from stance.export import command

    fitted.save(tmp_path / "model")
    monkeypatch.setattr(command, "validation_split", lambda *_: toy_split(16, 1, long_every=4))
    result = command.export_model(tmp_path / "model", repeats=1)
    folder = tmp_path / "model" / "onnx"
    assert result["folder"] == str(folder)
    meta = json.loads((folder / EXPORT_META).read_text())
    assert meta["kind"] == "setfit" and meta["validation"]["paragraphs"] == 16
    assert meta["validation"]["max_abs_diff"] <= 1e-4
    assert len(meta["head"]["coef"][0]) == fitted.body_.get_sentence_embedding_dimension()


def test_a_body_that_does_not_mean_pool_is_refused(fitted: SetFitStanceModel) -> None:
    from stance.export.onnx import exportable

    pooling = fitted.body_[1]
    saved = pooling.pooling_mode
    pooling.pooling_mode = "cls"
    try:
        with pytest.raises(StanceError, match="pools by 'cls'"):
            exportable(fitted, "runs/x/model")
    finally:
        pooling.pooling_mode = saved


def test_an_export_folder_of_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    (tmp_path / EXPORT_META).write_text(json.dumps({"format": "onnx", "kind": "keras"}))
    with pytest.raises(StanceError, match="'keras'; this version reads"):
        open_export(tmp_path)


@pytest.mark.slow
def test_the_packaged_minilm_body_exports_within_the_tolerance(
    toy_split: Callable, tmp_path: Path
) -> None:
    """The real encoder (with its Normalize module and real vocabulary): a head fitted on its
    untuned embeddings is enough to check the graph, the windows and the head."""
    from sklearn.linear_model import LogisticRegression

    from stance.export.onnx import export_onnx
    from stance.models import encoders
    from stance.models.setfit_folder import load_body

    model = SetFitStanceModel(max_length=48, stride=8, progress_bar=False)
    model.body_ = load_body(encoders.resolve(model.encoder), "test")
    model.body_.max_seq_length = model.max_length
    model.classes_, model.uses_target_, model.temperature_ = ["pro", "anti"], True, 0.7
    train = toy_split(30, 0, long_every=4)
    inputs = model._inputs(list(train["text"]), list(train["target"]))
    model.head_ = LogisticRegression().fit(model._embed(inputs), train["label"])

    export_onnx(model, tmp_path)
    onnx = open_export(tmp_path)
    test = toy_split(20, 1, long_every=3)
    texts, targets = list(test["text"]), list(test["target"])
    assert onnx.inputs(texts, targets) == model._inputs(texts, targets)
    reference = model.predict_proba(texts, targets)
    np.testing.assert_allclose(onnx.predict_proba(texts, targets), reference, atol=1e-4, rtol=0)
