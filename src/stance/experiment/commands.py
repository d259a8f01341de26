"""What `scripts/train.py` and `scripts/evaluate.py` run: the pipeline, and the lines they print."""

from __future__ import annotations

from omegaconf import DictConfig

from stance.experiment.evaluation import evaluate_saved
from stance.experiment.training import print_summary, require_metric, train


def train_command(cfg: DictConfig) -> float | None:
    """``train(cfg)``; the optimized metric for sweepers (e.g. Optuna) when one is set."""
    metrics = train(cfg)
    return require_metric(metrics, cfg.optimized_metric) if cfg.optimized_metric else None


def evaluate_command(cfg: DictConfig) -> None:
    """``evaluate_saved(cfg)`` and the summary: where the results went, and the scores."""
    metrics = evaluate_saved(cfg)
    print_summary(cfg.run_dir, metrics, with_model=False)
