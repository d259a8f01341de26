"""The transformer family on a tiny random BERT: fit, windows, save/load/pipeline, resume."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict

from stance import models
from stance.errors import StanceError
from stance.models.transformer.data import encode_windows
from stance.models.transformer.model import TransformerStanceModel
from stance.models.transformer.train import StanceTrainer, balanced_class_weights
from stance.models.windows import mean_by_paragraph

CLASSES = ["pro", "anti"]  # the order the toy splits declare in their ClassLabel


# Hyperparameters that let the tiny BERT learn the toy task in a few seconds.
TINY_TRAINING: dict = {
    "max_length": 32,
    "stride": 8,
    "learning_rate": 0.01,
    "epochs": 3,
    "batch_size": 8,
    "eval_steps": 8,
    "save_steps": 8,
    "max_evals": None,  # every eval_steps, however many: the kill test resumes from step 16
    "logging_steps": 1000,
    "progress_bar": False,
    "early_stopping_patience": None,
}


def tiny_model(pretrained: Path, **overrides: object) -> TransformerStanceModel:
    """A model with ``TINY_TRAINING`` on the tiny BERT at ``pretrained``."""
    settings = {**TINY_TRAINING, "pretrained": str(pretrained), "predict_batch_size": 5, "seed": 0}
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
                ).logits
                / model.temperature_,  # the softmax temperature fitted on validation
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


def test_use_target_false_trains_on_text_alone_despite_a_target_column(
    tiny_bert: Path, toy_split: Callable
) -> None:
    split = toy_split(16, 0)
    assert "target" in split.column_names
    model = tiny_model(tiny_bert, epochs=1, use_target=False).fit(split)
    assert not model.uses_target
    assert model.predict_proba(["the tax policy is good"]).shape == (1, 2)


def test_model_trained_on_pairs_needs_targets(fitted: tuple) -> None:
    model, _ = fitted
    with pytest.raises(StanceError, match="targets"):
        model.predict(["the tax policy is good"])


def test_unknown_pretrained_is_a_user_error(tmp_path: Path, toy_split: Callable) -> None:
    model = TransformerStanceModel(pretrained=str(tmp_path / "no-such-model"))
    with pytest.raises(StanceError, match=r"model\.pretrained"):
        model.fit(toy_split(4, 0))


@pytest.mark.parametrize(
    ("setting", "value"),
    [("warmup_ratio", 1.5), ("metric_for_best_model", "loss"), ("class_weight", "inverse")],
)
def test_bad_trainer_settings_are_user_errors(
    tiny_bert: Path, toy_split: Callable, setting: str, value: object
) -> None:
    with pytest.raises(StanceError, match=f"model.{setting}"):
        tiny_model(tiny_bert, **{setting: value}).fit(toy_split(8, 0), toy_split(4, 1))


def test_class_weight_none_is_accepted_as_null_for_sweeps() -> None:
    from stance.models.transformer.settings import TrainSettings

    assert TrainSettings(class_weight="none").class_weight is None
    assert TrainSettings().class_weight == "balanced"


def test_balanced_class_weights() -> None:
    # 3 of class 0, 1 of class 1: n / (k * count) = 4/6 and 4/2
    np.testing.assert_allclose(balanced_class_weights([0, 0, 0, 1], 2), [4 / 6, 2.0])


def test_mean_by_paragraph() -> None:
    windows = np.array([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]])
    np.testing.assert_allclose(mean_by_paragraph(windows, [0, 0, 1], 2), [[0.4, 0.6], [1.0, 0.0]])


class Killed(Exception):
    """Stands in for the process being killed right after a checkpoint was written."""


CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def toy_run(tiny_bert: Path, toy_split: Callable) -> Iterator[Callable[[Path], dict]]:
    """``toy_run(run_dir)``: ``train(cfg)`` on the real train config with ``model=transformer``."""
    from hydra import compose, initialize_config_dir

    import stance.config_schemas
    import stance.runs  # noqa: F401  (schemas and the resolvers the train config uses)
    from stance.experiment.training import train

    data = DatasetDict(
        train=toy_split(64, 0, long_every=5),
        validation=toy_split(16, 1, long_every=4),
        test=toy_split(16, 2),
    )

    def run(run_dir: Path) -> dict:
        overrides = ["~dataset", "+dataset={name: toy}", "evaluation.bootstrap=0"]
        overrides += ["model=transformer", f"model.pretrained={tiny_bert}"]
        # json.dumps spells None and False as Hydra's override grammar does (null, false)
        overrides += [f"model.{key}={json.dumps(value)}" for key, value in TINY_TRAINING.items()]
        with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
            cfg = compose(config_name="train", overrides=[*overrides, f"run_dir={run_dir}"])
        return train(cfg)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "stance.experiment.training.prepare_dataset", lambda *_: (data, {"fingerprint": "toy"})
        )
        yield run


@pytest.fixture(scope="module")
def straight_run(toy_run: Callable, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory trained without interruption."""
    run_dir = tmp_path_factory.mktemp("straight")
    toy_run(run_dir)
    return run_dir


def test_train_config_writes_a_run_that_load_model_and_pipeline_read(straight_run: Path) -> None:
    from transformers import pipeline

    from stance import load_model, runs

    assert runs.read_run(straight_run)["status"] == "complete"
    assert runs.read_metrics(straight_run)["test/f_avg"] >= 0.75
    assert not (straight_run / "checkpoints").exists()  # removed once training succeeded

    stored = runs.read_predictions(straight_run, "test")
    texts, targets = [r["text"] for r in stored], [r["target"] for r in stored]
    ours = list(load_model(straight_run).predict(texts, targets))
    assert ours == [row["pred"] for row in stored]
    assert set(ours) == set(CLASSES)
    classify = pipeline("text-classification", model=str(straight_run / "model"))
    theirs = classify([{"text": t, "text_pair": x} for t, x in zip(targets, texts, strict=True)])
    assert [row["label"] for row in theirs] == ours


def test_rerun_after_a_kill_resumes_from_the_last_checkpoint(
    toy_run: Callable,
    straight_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from stance import runs

    straight = runs.read_metrics(straight_run)

    save = StanceTrainer._save_checkpoint

    def save_then_die(self: StanceTrainer, *args: object, **kwargs: object) -> None:
        save(self, *args, **kwargs)
        if self.state.global_step >= 16:
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(StanceTrainer, "_save_checkpoint", save_then_die)
        with pytest.raises(Killed):
            toy_run(tmp_path / "killed")
    with caplog.at_level("INFO", logger="stance.models.transformer.train"):
        resumed = toy_run(tmp_path / "killed")

    assert "(step 16)" in caplog.text
    # Same seed, replayed data order, restored optimizer/scheduler/RNG: measured identical.
    assert resumed.keys() == straight.keys()
    for key, value in straight.items():
        assert resumed[key] == pytest.approx(value, abs=1e-6, nan_ok=True), key


@pytest.mark.slow
def test_packaged_minilm_fine_tunes_offline_and_pipeline_reads_it(
    toy_split: Callable, tmp_path: Path
) -> None:
    from transformers import pipeline

    settings = {"max_steps": 6, "batch_size": 8, "progress_bar": False}
    model = TransformerStanceModel(**settings, early_stopping_patience=None)
    model.fit(toy_split(32, 0), toy_split(8, 1))
    model.save(tmp_path / "model")
    assert model.model_.config.num_hidden_layers == 6  # all-MiniLM-L6-v2, from the package

    validation = toy_split(16, 2)
    texts, targets = list(validation["text"]), list(validation["target"])
    classify = pipeline("text-classification", model=str(tmp_path / "model"))
    theirs = classify([{"text": t, "text_pair": x} for t, x in zip(targets, texts, strict=True)])
    assert [row["label"] for row in theirs] == list(model.predict(texts, targets))


def test_temperature_is_fitted_on_validation_and_kept_on_save(tiny_bert, toy_split, tmp_path):
    from stance.scoring.metrics import expected_calibration_error

    train, validation = toy_split(32, 0), toy_split(16, 1)
    model = tiny_model(tiny_bert, epochs=1).fit(train, validation)
    assert model.temperature_ != 1.0
    texts, targets, gold = validation["text"], validation["target"], np.asarray(validation["label"])
    calibrated = model.predict_proba(texts, targets)
    raw = model.predict_proba(texts, targets, calibrated=False)
    assert (calibrated.argmax(1) == raw.argmax(1)).mean() > 0.9  # a temperature keeps rankings
    nll = [-np.log(p[np.arange(len(gold)), gold]).mean() for p in (calibrated, raw)]
    assert nll[0] <= nll[1] + 1e-6  # fitted to lower the validation NLL
    assert expected_calibration_error(gold, calibrated) >= 0
    model.save(tmp_path / "m")
    assert models.load(tmp_path / "m").temperature_ == pytest.approx(model.temperature_)


def test_a_misspelt_hyperparameter_is_named() -> None:
    with pytest.raises(StanceError, match=r"unknown hyperparameters \['learning_rte'\]"):
        models.build({"_target_": "stance.models.transformer.model.TransformerStanceModel",
                      "learning_rte": 1e-4})  # fmt: skip
    assert TransformerStanceModel().learning_rate == 1e-4  # the default stated in TrainSettings
