"""How far the transformer's training got: early stopping that waits for learning to start, and
the ``fit_log_`` the stall check reads (``stance.models.health``)."""

from __future__ import annotations

from typing import Any

from transformers import EarlyStoppingCallback, TrainingArguments

from stance.models import health


class LearnedEarlyStopping(EarlyStoppingCallback):
    """Early stopping that counts no evaluation before ``min_steps``, nor while the training
    loss is still at chance: a model that predicts the prior has not plateaued, it has not begun."""

    def __init__(
        self,
        early_stopping_patience: int = 1,
        early_stopping_threshold: float | None = 0.0,
        min_steps: int = 0,
        chance_loss: float | None = None,
    ) -> None:
        super().__init__(early_stopping_patience, early_stopping_threshold)
        self.min_steps = min_steps
        self.chance_loss = chance_loss

    def on_evaluate(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> None:
        """The parent's patience count, once learning has started."""
        losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
        last = losses[-1] if losses else None
        if state.global_step >= self.min_steps and health.learning_started(last, self.chance_loss):
            super().on_evaluate(args, state, control, **kwargs)

    def state(self) -> dict:
        """The parent's checkpointed state plus the two gates."""
        out = super().state()
        out["args"].update(min_steps=self.min_steps, chance_loss=self.chance_loss)
        return out


def fit_log(state: Any, chance: float, weighted: bool) -> dict[str, Any]:
    """``fit_log_`` (its keys are described in ``stance.models.health``) from the Trainer state."""
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    return {
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "steps": int(state.global_step),
        "chance_loss": chance,
        "loss": "class-weighted cross-entropy" if weighted else "cross-entropy",
    }
