"""How far the transformer's training got: early stopping that waits for learning to start, the
schedule (an estimate before training, the ``max_minutes`` budget) and the ``fit_log_`` the stall
check reads (``stance.models.health``)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from transformers import EarlyStoppingCallback, TrainerCallback, TrainingArguments

from stance import distributed
from stance.models import health
from stance.models.transformer.settings import TrainSettings

log = logging.getLogger(__name__)


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


def fit_log(
    state: Any, chance: float, weighted: bool, schedule: Schedule | None = None
) -> dict[str, Any]:
    """``fit_log_`` (its keys are described in ``stance.models.health``) from the Trainer state;
    ``stopped_on_budget`` is 1 when ``model.max_minutes`` ended training."""
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    stopped = schedule is not None and schedule.stopped_at is not None
    return {
        "stopped_on_budget": float(stopped),
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "steps": int(state.global_step),
        "chance_loss": chance,
        "loss": "class-weighted cross-entropy" if weighted else "cross-entropy",
    }


class Schedule(TrainerCallback):
    """How long training will take, said after the first ``warm`` steps (on stderr, rank 0), and
    the ``max_minutes`` budget: past it, validate, save, stop (the best checkpoint is kept)."""

    def __init__(
        self, total_steps: int, evals: int, eval_windows: int, max_minutes: float | None = None
    ) -> None:
        self.total_steps, self.evals, self.eval_windows = total_steps, evals, eval_windows
        self.max_minutes = max_minutes
        self.warm = 3  # steps timed before the estimate (the first one also loads and warms up)
        self.step_seconds: list[float] = []  # optimizer steps alone, validation passes excluded
        self.stopped_at: int | None = None

    @classmethod
    def fitted(
        cls, settings: TrainSettings, train_windows: int, eval_windows: int | None
    ) -> tuple[TrainSettings, Schedule]:
        """``settings`` with validation and checkpoint intervals fitted to the run's length
        (``TrainSettings.scheduled``), and the callback that times and budgets that run."""
        ranks = distributed.world_size()
        settings = settings.scheduled(train_windows, ranks)
        total = settings.total_steps(train_windows, ranks)
        evals = 0 if eval_windows is None else total // settings.eval_steps
        every, knobs = settings.eval_steps, "model.max_evals, model.evals_per_epoch"
        log.info("%d steps, validating every %d (%d passes: %s)", total, every, evals, knobs)
        return settings, cls(total, evals, eval_windows or 0, settings.max_minutes)

    def on_train_begin(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Start the clocks (a resumed run's budget counts from its restart)."""
        self.started = self.step_started = time.monotonic()

    def on_step_begin(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Time the step."""
        self.step_started = time.monotonic()

    def on_step_end(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """The estimate once ``warm`` steps are timed; the stop once the budget is spent."""
        now = time.monotonic()
        self.step_seconds.append(now - self.step_started)
        if len(self.step_seconds) == self.warm and state.is_world_process_zero:
            print(self.estimate(args, state.global_step), file=sys.stderr, flush=True)
        over = self.max_minutes is not None and now - self.started >= 60 * self.max_minutes
        if self.max_minutes is not None and any_rank(over, args):  # every rank stops together
            self.stopped_at = state.global_step
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = args.eval_strategy != "no"

    def estimate(self, args: TrainingArguments, step: int) -> str:
        """``about N minutes on this machine`` for the steps and validation passes left."""
        per_step = float(np.median(self.step_seconds[1:] or self.step_seconds))
        # a validation pass: forward only (about a third of a training step) over its windows
        windows = args.per_device_train_batch_size * args.gradient_accumulation_steps
        per_eval = per_step / 3 * self.eval_windows / max(windows, 1)
        left = max(self.total_steps - step, 0)
        passes = round(self.evals * left / max(self.total_steps, 1))
        seconds = left * per_step + passes * per_eval
        budget = f" (budget: model.max_minutes={self.max_minutes:g})" if self.max_minutes else ""
        return (
            f"training: {about(seconds)} on this machine{budget}: {left} steps at "
            f"{per_step:.2f} s and {passes} validation passes at ~{per_eval:.0f} s; set "
            "model.max_minutes, model.max_evals or model.epochs to shorten"
        )

    def on_train_end(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Say that the budget, not the schedule, ended training."""
        if self.stopped_at is not None and state.is_world_process_zero:
            best = state.best_model_checkpoint
            kept = f"the best checkpoint ({Path(best).name}) is kept" if best else "not validated"
            print(
                f"training stopped on the time budget (model.max_minutes={self.max_minutes:g}) at "
                f"step {self.stopped_at} of {self.total_steps}; {kept}",
                file=sys.stderr,
                flush=True,
            )


def any_rank(flag: bool, args: TrainingArguments) -> bool:
    """True when ``flag`` is true on any rank of a data-parallel run (its clock may run ahead):
    a rank that stopped alone would leave the others waiting in their gradient all-reduce."""
    import torch
    import torch.distributed as dist

    if args.world_size <= 1 or not (dist.is_available() and dist.is_initialized()):
        return flag
    vote = torch.tensor([float(flag)], device=args.device)
    dist.all_reduce(vote, op=dist.ReduceOp.MAX)
    return bool(vote.item())


def about(seconds: float) -> str:
    """``about 40 s``, ``about 12 minutes``, ``about 3.5 hours``: an estimate, said plainly."""
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} minutes"
    return f"about {seconds / 3600:.1f} hours"
