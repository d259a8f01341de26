"""The transformer family's training hyperparameters, stated once (no torch: configs import it)."""

from __future__ import annotations

from dataclasses import dataclass

from stance.errors import StanceError, problem

# Metrics the validation pass reports; any of them can drive early stopping.
BEST_MODEL_METRICS = ("f_avg", "f1_macro", "accuracy")


@dataclass
class TrainSettings:
    """The transformer family's training hyperparameters, stated once: `model.<field>` in configs.

    `TransformerStanceModel(**fields)` takes them (the model stores them as given); they are
    checked when fit starts, before a pretrained model is loaded.
    """

    learning_rate: float = 1e-4  # peak AdamW learning rate, linear decay after warmup
    epochs: float = 8.0  # upper bound: early stopping may end sooner (demo: 3 underfit)
    max_steps: int = -1  # > 0 overrides epochs (optimizer steps)
    batch_size: int = 16  # windows per optimizer step and device
    eval_batch_size: int = 64  # windows per validation batch
    gradient_accumulation_steps: int = 1  # batches per optimizer step
    warmup_ratio: float = 0.1  # share of the steps with a rising learning rate, in [0, 1)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    class_weight: str | None = "balanced"  # balanced (inverse class frequency) | none (null)
    early_stopping_patience: int | None = 3  # evaluations without improvement; None: off
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
        if not 0 <= self.warmup_ratio < 1:
            raise StanceError(
                problem(
                    "model.warmup_ratio",
                    f"{self.warmup_ratio} is not a fraction of the training steps",
                    "use a value in [0, 1), e.g. 0.1",
                )
            )
