"""The transformer family's training hyperparameters, stated once (no torch: configs import it)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from stance.errors import StanceError, problem
from stance.scoring.metrics import BATCH_METRICS

# Metrics the validation pass reports; any of them can drive early stopping.
BEST_MODEL_METRICS = BATCH_METRICS


@dataclass
class TrainSettings:
    """The transformer family's training hyperparameters, stated once: `model.<field>` in configs.

    `TransformerStanceModel(**fields)` takes them (the model stores them as given); they are
    checked when fit starts, before a pretrained model is loaded.
    """

    learning_rate: float = 1e-4  # peak AdamW learning rate of the pretrained body, linear decay
    # the freshly initialised classification head starts from random, so it may move faster;
    # None: learning_rate
    head_learning_rate: float | None = 1e-3
    epochs: float = 8.0  # upper bound: early stopping may end sooner (demo: 3 underfit)
    # at least this many optimizer steps when epochs give fewer: 105 rows x 2 epochs = 14 steps
    # left MiniLM's loss at ln 3 (issue 19); 200 steps moved it (tests/models/test_small_data.py)
    min_steps: int = 200
    max_steps: int = -1  # > 0 overrides epochs and min_steps (optimizer steps)
    batch_size: int = 16  # windows per optimizer step and device
    eval_batch_size: int = 64  # windows per validation batch
    gradient_accumulation_steps: int = 1  # batches per optimizer step
    warmup_ratio: float = 0.1  # share of the steps with a rising learning rate, in [0, 1)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    class_weight: str | None = "balanced"  # balanced (inverse class frequency) | none (null)
    # evaluations without improvement; None: off. Counted only from min_steps on and once the
    # training loss is below chance (health.learning_started): no stop before learning starts
    early_stopping_patience: int | None = 3
    # on validation paragraphs: f_avg | f1_macro | accuracy; null: train.py sets the dataset's
    # headline (dataset.metric), and a model fitted outside it uses f_avg
    metric_for_best_model: str | None = None
    eval_steps: int = 20  # optimizer steps between validation passes (at least; see max_evals)
    save_steps: int = 20  # optimizer steps between checkpoints (a multiple of eval_steps)
    # validation passes per run at most: on a long run eval_steps (and save_steps with it) grow
    # to fit, e.g. 6,768 steps -> every 339; None: every eval_steps however long the run
    max_evals: int | None = 20
    # validation passes (and checkpoints) per epoch, e.g. 2 or 0.5; set, it replaces eval_steps
    # and max_evals
    evals_per_epoch: float | None = None
    # wall-clock budget for training, in minutes: at the first step past it the trainer validates,
    # stops and keeps the best checkpoint (metrics: train/stopped_on_budget); None: no budget
    max_minutes: float | None = None
    save_total_limit: int | None = 1  # newest checkpoints kept (plus the best)
    logging_steps: int = 10  # optimizer steps between loss log lines
    progress_bar: bool = True  # the Trainer's tqdm bar
    seed: int = 0  # the head's initialisation and the data order
    # transformers TrainerCallbacks added to the Trainer's own, each from config as
    # {_target_: module.Class, ...} (e.g. the tests' DDP recorder); None: none
    callbacks: list[Any] | None = None

    def __post_init__(self) -> None:
        # Checked when the model's fit starts, before a pretrained model is loaded or downloaded.
        if self.class_weight == "none":  # Hydra's sweep choice() cannot hold a null
            self.class_weight = None
        if self.class_weight not in (None, "balanced"):
            raise StanceError(
                problem(
                    "model.class_weight",
                    f"unknown value {self.class_weight!r}",
                    "use `balanced` or `none`",
                )
            )
        if self.metric_for_best_model not in (None, *BEST_MODEL_METRICS):
            raise StanceError(
                problem(
                    "model.metric_for_best_model",
                    f"unknown metric {self.metric_for_best_model!r}",
                    f"use one of {', '.join(BEST_MODEL_METRICS)}",
                )
            )
        if self.min_steps < 0:
            raise StanceError(
                problem("model.min_steps", f"{self.min_steps} is negative", "use 0 or more")
            )
        if self.head_learning_rate is not None and self.head_learning_rate <= 0:
            raise StanceError(
                problem(
                    "model.head_learning_rate",
                    f"{self.head_learning_rate} is not a learning rate",
                    "use a positive value, e.g. 1e-3, or null for model.learning_rate",
                )
            )
        for name in ("max_evals", "evals_per_epoch", "max_minutes"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                fix = "use a positive number, or null for none"
                raise StanceError(problem(f"model.{name}", f"{value} is not positive", fix))
        if not 0 <= self.warmup_ratio < 1:
            raise StanceError(
                problem(
                    "model.warmup_ratio",
                    f"{self.warmup_ratio} is not a fraction of the training steps",
                    "use a value in [0, 1), e.g. 0.1",
                )
            )

    def steps_per_epoch(self, n_windows: int, ranks: int = 1) -> int:
        """Optimizer steps in one pass over ``n_windows`` training windows."""
        batches = math.ceil(n_windows / (self.batch_size * ranks))  # per rank and epoch
        return max(math.ceil(batches / self.gradient_accumulation_steps), 1)

    def optimizer_steps(self, n_windows: int, ranks: int = 1) -> int:
        """The Trainer's ``max_steps``: ``max_steps`` when set, else -1 (the Trainer counts what
        ``epochs`` give) or ``min_steps`` when the epochs give fewer."""
        if self.max_steps > 0:
            return self.max_steps
        per_epoch = self.steps_per_epoch(n_windows, ranks)
        return self.min_steps if math.ceil(self.epochs * per_epoch) < self.min_steps else -1

    def total_steps(self, n_windows: int, ranks: int = 1) -> int:
        """The optimizer steps the run will take (early stopping aside)."""
        steps = self.optimizer_steps(n_windows, ranks)
        return (
            steps if steps > 0 else math.ceil(self.epochs * self.steps_per_epoch(n_windows, ranks))
        )

    def scheduled(self, n_windows: int, ranks: int = 1) -> TrainSettings:
        """These settings with ``eval_steps`` and ``save_steps`` fitted to the run's length:
        ``evals_per_epoch`` passes per epoch, else at most ``max_evals`` passes (never more often
        than ``eval_steps``); checkpoints keep their multiple of the validation interval."""
        every = self.eval_steps
        if self.evals_per_epoch:
            every = max(1, round(self.steps_per_epoch(n_windows, ranks) / self.evals_per_epoch))
        elif self.max_evals:
            every = max(every, math.ceil(self.total_steps(n_windows, ranks) / self.max_evals))
        multiple = max(1, round(self.save_steps / max(self.eval_steps, 1)))
        return dataclasses.replace(self, eval_steps=every, save_steps=every * multiple)
