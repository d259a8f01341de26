"""Re-evaluate a saved model: `python scripts/evaluate.py model=PATH dataset=NAME`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

import stance.runs  # noqa: F401  (registers the resolvers used in hydra.run.dir)
from stance.cli import model_path_argv, script_help, user_errors
from stance.config_schemas import EvaluateConfig  # (importing it registers the schemas)
from stance.experiment.evaluation import evaluate_saved
from stance.experiment.training import print_summary


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.experiment.evaluation.evaluate_saved`` and say where the results went."""
    metrics = evaluate_saved(cfg)
    print_summary(cfg.run_dir, metrics, with_model=False)


if __name__ == "__main__":
    script_help(sys.argv, __doc__, EvaluateConfig, "evaluate")
    sys.argv = model_path_argv(sys.argv)
    main()
