"""The transformer family's training hyperparameters, stated once (no torch: configs import it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    metric_for_best_model: str = "f_avg"  # on validation paragraphs: f_avg | f1_macro | accuracy
    eval_steps: int = 20  # optimizer steps between validation passes
    save_steps: int = 20  # optimizer steps between checkpoints (a multiple of eval_steps)
    save_total_limit: int | None = 1  # newest checkpoints kept (plus the best)
    logging_steps: int = 10  # optimizer steps between loss log lines
    progress_bar: bool = True  # the Trainer's tqdm bar
    seed: int = 0  # the head's initialisation and the data order

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
        if self.metric_for_best_model not in BEST_MODEL_METRICS:
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
        if not 0 <= self.warmup_ratio < 1:
            raise StanceError(
                problem(
                    "model.warmup_ratio",
                    f"{self.warmup_ratio} is not a fraction of the training steps",
                    "use a value in [0, 1), e.g. 0.1",
                )
            )

    def optimizer_steps(self, n_windows: int, ranks: int = 1) -> int:
        """The Trainer's ``max_steps``: ``max_steps`` when set, else -1 (the Trainer counts what
        ``epochs`` give) or ``min_steps`` when the epochs give fewer."""
        if self.max_steps > 0:
            return self.max_steps
        batches = math.ceil(n_windows / (self.batch_size * ranks))  # per rank and epoch
        per_epoch = max(math.ceil(batches / self.gradient_accumulation_steps), 1)
        return self.min_steps if math.ceil(self.epochs * per_epoch) < self.min_steps else -1
