"""python scripts/train.py [dataset=NAME] [model=NAME] [logger=mlflow] [model.C=0.5] [rerun=true]

Builds the dataset when missing or stale, trains, evaluates on validation and test, and writes the
run record (metrics.json, predictions, report.html, the model) into the run directory.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

import stance.runs  # noqa: F401  (registers the resolvers used in hydra.run.dir)
from stance.cli import script_help, user_errors
from stance.config_schemas import TrainConfig
from stance.experiment.training import require_metric, train


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors
def main(cfg: DictConfig) -> float | None:
    """Run ``stance.train(cfg)``; return the optimized metric for sweepers (e.g. Optuna)."""
    metrics = train(cfg)
    return require_metric(metrics, cfg.optimized_metric) if cfg.optimized_metric else None


if __name__ == "__main__":
    script_help(sys.argv, __doc__, TrainConfig, "train")
    main()
