"""The transformer family on a tiny random BERT: fit, windows, save/load/pipeline, resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset

from stance.errors import StanceError
from stance.models.transformer import TransformerStanceModel
from stance.models.transformer_data import encode_windows, mean_by_paragraph
from stance.models.transformer_train import StanceTrainer, balanced_class_weights

CLASSES = ["pro", "anti"]  # the order the toy splits declare in their ClassLabel


def tiny_model(pretrained: Path, **overrides: object) -> TransformerStanceModel:
    """Hyperparameters that let the tiny BERT learn the toy task in a few seconds."""
    settings: dict = {
        "pretrained": str(pretrained),
        "max_length": 32,
        "stride": 8,
        "learning_rate": 1e-2,
        "epochs": 4,
        "batch_size": 8,
        "eval_steps": 8,
        "save_steps": 8,
        "logging_steps": 1000,
        "progress_bar": False,
        "early_stopping_patience": None,
        "predict_batch_size": 5,
        "seed": 0,
    }
    return TransformerStanceModel(**{**settings, **overrides})


@pytest.fixture(scope="module")
def fitted(tiny_bert: Path, toy_split: Callable) -> tuple[TransformerStanceModel, Dataset]:
    """A tiny model trained on (target, text) pairs, some paragraphs longer than one window."""
    validation = toy_split(24, 1, long_every=4)
    return tiny_model(tiny_bert).fit(toy_split(64, 0, long_every=5), validation), validation


def test_fit_learns_pairs_and_labels_from_the_dataset(fitted: tuple) -> None:
    model, validation = fitted
    assert model.classes_ == CLASSES
    assert model.uses_target
    pred = model.predict(validation["text"], validation["target"])
    gold = np.asarray(CLASSES, dtype=object)[validation["label"]]
    # The cue word decides the label, so a model that trained at all gets most of them.
    assert (pred == gold).mean() >= 0.75


def test_long_paragraphs_average_their_windows_and_keep_input_order(fitted: tuple) -> None:
    model, validation = fitted
    texts, targets = list(validation["text"]), list(validation["target"])
    assert len(model.tokenizer_(targets[0], texts[0])["input_ids"]) > model.max_length
    proba = model.predict_proba(texts, targets)

    windows = encode_windows(model.tokenizer_, texts[:1], targets[:1], 32, 8)
    assert len(windows["input_ids"]) > 1
    with torch.inference_mode():
        per_window = [
            torch.softmax(
                model.model_(
                    input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])
                ).logits,
                -1,
            )[0].numpy()
            for ids, types in zip(windows["input_ids"], windows["token_type_ids"], strict=True)
        ]
    np.testing.assert_allclose(proba[0], np.mean(per_window, axis=0), atol=1e-5)

    order = np.random.default_rng(0).permutation(len(texts))
    shuffled = model.predict_proba([texts[i] for i in order], [targets[i] for i in order])
    np.testing.assert_allclose(shuffled, proba[order], atol=1e-5)


def test_save_reload_and_pipeline_agree(fitted: tuple, tmp_path: Path) -> None:
    from transformers import pipeline

    model, validation = fitted
    short = validation.filter(lambda row: len(row["text"].split()) < 20)
    texts, targets = list(short["text"]), list(short["target"])
    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "model.safetensors").is_file()

    reloaded = TransformerStanceModel.load(tmp_path / "model")
    np.testing.assert_allclose(
        reloaded.predict_proba(texts, targets), model.predict_proba(texts, targets), atol=1e-6
    )
    ours = list(model.predict(texts, targets))
    assert set(ours) == set(CLASSES)

    classify = pipeline("text-classification", model=str(tmp_path / "model"), device="cpu")
    theirs = classify([{"text": t, "text_pair": x} for t, x in zip(targets, texts, strict=True)])
    assert [row["label"] for row in theirs] == ours


def test_text_only_dataset_trains_on_text_alone(tiny_bert: Path, toy_split: Callable) -> None:
    model = tiny_model(tiny_bert, epochs=1).fit(toy_split(16, 0, with_target=False))
    assert not model.uses_target
    assert model.predict_proba(["the tax policy is good"], ["ignored"]).shape == (1, 2)


def test_model_trained_on_pairs_needs_targets(fitted: tuple) -> None:
    model, _ = fitted
    with pytest.raises(StanceError, match="targets"):
        model.predict(["the tax policy is good"])


def test_unknown_pretrained_is_a_user_error(tmp_path: Path, toy_split: Callable) -> None:
    model = TransformerStanceModel(pretrained=str(tmp_path / "no-such-model"))
    with pytest.raises(StanceError, match=r"model\.pretrained"):
        model.fit(toy_split(4, 0))


def test_balanced_class_weights() -> None:
    # 3 of class 0, 1 of class 1: n / (k * count) = 4/6 and 4/2
    np.testing.assert_allclose(balanced_class_weights([0, 0, 0, 1], 2), [4 / 6, 2.0])


def test_mean_by_paragraph() -> None:
    windows = np.array([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]])
    np.testing.assert_allclose(mean_by_paragraph(windows, [0, 0, 1], 2), [[0.4, 0.6], [1.0, 0.0]])


class Killed(Exception):
    """Stands in for the process being killed right after a checkpoint was written."""


def test_rerun_after_interruption_resumes_from_last_checkpoint(
    tiny_bert: Path, toy_split: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, validation = toy_split(64, 0, long_every=5), toy_split(16, 1, long_every=4)
    texts, targets = list(validation["text"]), list(validation["target"])
    straight = tiny_model(tiny_bert, checkpoint_dir=str(tmp_path / "a")).fit(train, validation)
    assert straight.resumed_from_step_ is None

    save = StanceTrainer._save_checkpoint

    def save_then_die(self: StanceTrainer, *args: object, **kwargs: object) -> None:
        save(self, *args, **kwargs)
        if self.state.global_step >= 16:
            raise Killed

    monkeypatch.setattr(StanceTrainer, "_save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        tiny_model(tiny_bert, checkpoint_dir=str(tmp_path / "b")).fit(train, validation)
    monkeypatch.undo()

    resumed = tiny_model(tiny_bert, checkpoint_dir=str(tmp_path / "b")).fit(train, validation)
    assert resumed.resumed_from_step_ == 16
    # Same seed, data order replayed, optimizer/scheduler/RNG restored: measured identical (0.0).
    np.testing.assert_allclose(
        resumed.predict_proba(texts, targets), straight.predict_proba(texts, targets), atol=1e-6
    )
