"""The Hugging Face Trainer as the transformer family uses it: weighted loss, windows, resume."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch.nn import functional as F
from torch.utils.data import SequentialSampler
from transformers import (
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from stance import distributed
from stance.errors import StanceError, problem
from stance.models import health
from stance.models.transformer.data import WINDOW_SOURCE, LengthGroupedEpochSampler
from stance.models.transformer.progress import LearnedEarlyStopping, Schedule, fit_log
from stance.models.transformer.settings import BEST_MODEL_METRICS, TrainSettings
from stance.models.windows import paragraph_proba
from stance.scoring.metrics import HEADLINE, classification_metrics

log = logging.getLogger(__name__)


class StanceTrainer(Trainer):
    """Trainer with class-weighted loss, a resumable length-grouped order and ordered evaluation."""

    # compute_loss returns a per-batch mean; the Trainer divides it by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(
        self,
        *args: Any,
        class_weights: torch.Tensor | None,
        train_lengths: Sequence[int],
        head_learning_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights
        self.train_lengths = list(train_lengths)
        self.head_learning_rate = head_learning_rate

    def create_optimizer(self, model: torch.nn.Module | None = None) -> torch.optim.Optimizer:
        """The Trainer's AdamW, its parameter groups split into body and head, the head (the
        parameters outside the pretrained base model) at ``head_learning_rate``."""
        if self.optimizer is not None or self.head_learning_rate is None:
            return super().create_optimizer(model)
        model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(model))
        body = f"{model.base_model_prefix}."
        groups: dict[tuple[bool, bool], dict[str, Any]] = {}
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            head, decays = not name.startswith(body), name in decay
            group = groups.setdefault((head, decays), {"params": []})
            group["params"].append(param)
            group["weight_decay"] = self.args.weight_decay if decays else 0.0
            group["lr"] = self.head_learning_rate if head else self.args.learning_rate
        optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        self.optimizer = optimizer_cls(list(groups.values()), **kwargs)
        return self.optimizer

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """Cross-entropy over windows, weighted per class when configured."""
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = None if self.class_weights is None else self.class_weights.to(labels.device)
        loss = F.cross_entropy(outputs.logits, labels, weight=weight)
        return (loss, outputs) if return_outputs else loss

    def _get_train_sampler(self, train_dataset: Dataset | None = None) -> LengthGroupedEpochSampler:
        args = self.args
        # Grouped by the global batch, which accelerate then splits into one slice per rank: N
        # ranks step through the same batches as one process with N times the batch size.
        group = args.train_batch_size * args.gradient_accumulation_steps * args.world_size
        return LengthGroupedEpochSampler(self.train_lengths, group, seed=args.seed)

    def _get_eval_sampler(self, eval_dataset: Dataset) -> SequentialSampler:
        # Window order must stay as encoded so windows can be averaged back into paragraphs.
        return SequentialSampler(eval_dataset)


def balanced_class_weights(labels: Sequence[int], n_classes: int) -> torch.Tensor:
    """Weights n / (k * count_c), as scikit-learn's ``class_weight="balanced"``."""
    counts = np.bincount(np.asarray(labels), minlength=n_classes).astype(np.float64)
    weights = len(labels) / (n_classes * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


def paragraph_metrics(
    source: Sequence[int], gold: Sequence[int], classes: Sequence[str], neutral: str | None
) -> Callable[[EvalPrediction], dict[str, float]]:
    """A ``compute_metrics`` that averages window probabilities back into paragraphs first."""
    gold_array = np.asarray(gold)

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        logits = prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        proba = paragraph_proba(logits, source, len(gold_array))
        scores = classification_metrics(gold_array, proba.argmax(axis=1), classes, neutral)
        return {name: scores[name] for name in BEST_MODEL_METRICS}

    return compute


def training_arguments(
    settings: TrainSettings, output_dir: str | Path, with_validation: bool
) -> TrainingArguments:
    """TrainingArguments for a run; checkpoints go to ``output_dir``."""
    eval_every = "steps" if with_validation else "no"
    ranks = distributed.world_size()
    try:
        return TrainingArguments(
            output_dir=str(output_dir),
            per_device_train_batch_size=settings.batch_size,
            per_device_eval_batch_size=settings.eval_batch_size,
            gradient_accumulation_steps=settings.gradient_accumulation_steps,
            learning_rate=settings.learning_rate,
            weight_decay=settings.weight_decay,
            num_train_epochs=settings.epochs,
            max_steps=settings.max_steps,
            lr_scheduler_type="linear",
            warmup_steps=settings.warmup_ratio,  # transformers 5: a float < 1 is a fraction
            eval_strategy=eval_every,
            eval_steps=settings.eval_steps,
            save_strategy="steps",
            save_steps=settings.save_steps,
            save_total_limit=settings.save_total_limit,
            load_best_model_at_end=with_validation,
            metric_for_best_model=settings.metric_for_best_model or HEADLINE,
            greater_is_better=True,
            logging_steps=settings.logging_steps,
            logging_first_step=True,  # the loss at the start, for the stall check (health)
            disable_tqdm=not settings.progress_bar,
            report_to="none",
            seed=settings.seed,
            data_seed=settings.seed,
            dataloader_pin_memory=torch.cuda.is_available(),
            # without it accelerate does not run CPU ranks as one DDP job (gloo)
            use_cpu=ranks > 1 and not torch.cuda.is_available(),
        )
    except ValueError as err:
        raise StanceError(
            problem("model config (Trainer settings)", str(err), "fix the model.* values named")
        ) from err


def configured_callbacks(callbacks: Sequence[Any] | None) -> list[TrainerCallback]:
    """``model.callbacks``, each checked to be a TrainerCallback (instantiated from config)."""
    for i, callback in enumerate(callbacks or []):
        if not isinstance(callback, TrainerCallback):
            raise StanceError(
                problem(
                    f"model.callbacks[{i}]",
                    f"a {type(callback).__name__}, not a transformers TrainerCallback",
                    "give each as {_target_: module.Class, ...} naming a TrainerCallback subclass",
                )
            )
    return list(callbacks or [])


def as_train_dataset(features: dict[str, list], labels: Sequence[int]) -> Dataset:
    """Windows plus the label of the paragraph each came from, as a Dataset for the Trainer."""
    columns = {k: v for k, v in features.items() if k != WINDOW_SOURCE}
    columns["labels"] = [int(labels[i]) for i in features[WINDOW_SOURCE]]
    return Dataset.from_dict(columns)


def last_complete_checkpoint(folder: str | Path) -> Path | None:
    """The newest ``checkpoint-N`` with its trainer state (rank 0 writes it last) and every
    rank's RNG state, so that a job killed while saving resumes from the one before."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    ranks = distributed.world_size()
    needed = ["trainer_state.json"] + [f"rng_state_{r}.pth" for r in range(ranks) if ranks > 1]
    steps = {}
    for path in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = path.name.rsplit("-", 1)[1]
        if step.isdigit() and all((path / name).is_file() for name in needed):
            steps[int(step)] = path
    return steps[max(steps)] if steps else None


def train_windows(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    settings: TrainSettings,
    train: tuple[dict[str, list], Sequence[int]],
    validation: tuple[dict[str, list], Sequence[int]] | None,
    classes: Sequence[str],
    checkpoint_dir: str | Path,
    neutral: str | None = None,
) -> tuple[PreTrainedModel, int | None, dict[str, Any]]:
    """Fine-tune on windows, resuming from the last checkpoint in ``checkpoint_dir`` if any.

    Returns the trained model (the best checkpoint when validating), the global step the run
    resumed from (None for a fresh start) and the ``fit_log_`` of the run.
    """
    train_features, train_labels = train
    train_dataset = as_train_dataset(train_features, train_labels)
    weights = (
        balanced_class_weights(train_labels, len(classes))
        if settings.class_weight == "balanced"
        else None
    )
    counts = np.bincount(train_dataset["labels"], minlength=len(classes))  # per window
    chance = health.chance_loss(counts, None if weights is None else weights.numpy())
    steps = settings.optimizer_steps(len(train_dataset), distributed.world_size())
    if steps != settings.max_steps:
        log.info("training %d optimizer steps (model.min_steps): the epochs give fewer", steps)
        settings = dataclasses.replace(settings, max_steps=steps)
    eval_windows = None if validation is None else len(validation[0]["input_ids"])
    settings, schedule = Schedule.fitted(settings, len(train_dataset), eval_windows)
    callbacks: list[TrainerCallback] = [schedule]
    eval_dataset = None
    compute_metrics = None
    if validation is not None:
        val_features, val_labels = validation
        eval_dataset = as_train_dataset(val_features, val_labels)
        sources = val_features[WINDOW_SOURCE]
        compute_metrics = paragraph_metrics(sources, val_labels, classes, neutral)
        if settings.early_stopping_patience:
            patience, floor = settings.early_stopping_patience, settings.min_steps
            callbacks.append(LearnedEarlyStopping(patience, min_steps=floor, chance_loss=chance))
    callbacks.extend(configured_callbacks(settings.callbacks))
    trainer = StanceTrainer(
        model=model,
        args=training_arguments(settings, checkpoint_dir, validation is not None),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
        class_weights=weights,
        head_learning_rate=settings.head_learning_rate,
        train_lengths=[len(ids) for ids in train_features["input_ids"]],
    )
    last = last_complete_checkpoint(checkpoint_dir)
    resumed_from = None
    if last is not None:
        resumed_from = int(last.name.rsplit("-", 1)[1])
        log.info("resuming training from %s (step %d)", last, resumed_from)
    trainer.train(resume_from_checkpoint=None if last is None else str(last))
    # every rank has loaded the best checkpoint before rank 0 may delete the checkpoints
    trainer.accelerator.wait_for_everyone()
    done = fit_log(trainer.state, chance, weights is not None, schedule)
    return trainer.model, resumed_from, done


def remove_checkpoints(folder: str | Path) -> None:
    """Delete the Trainer's ``checkpoint-*`` folders, and ``folder`` itself once empty."""
    for checkpoint in Path(folder).glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    with contextlib.suppress(OSError):
        Path(folder).rmdir()
