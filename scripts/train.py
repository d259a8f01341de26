"""Train and evaluate one config: `python scripts/train.py [dataset=...] [model=...] [...]`."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

import stance.runs  # noqa: F401  (registers the resolvers used in hydra.run.dir)
from stance.cli import user_errors
from stance.experiment.training import require_metric, train


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors
def main(cfg: DictConfig) -> float | None:
    """Run ``stance.train(cfg)``; return the optimized metric for sweepers (e.g. Optuna)."""
    metrics = train(cfg)
    return require_metric(metrics, cfg.optimized_metric) if cfg.optimized_metric else None


if __name__ == "__main__":
    main()
