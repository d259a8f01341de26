"""Re-evaluate a saved model: `python scripts/evaluate.py model=PATH dataset=NAME`."""

from __future__ import annotations

import stance.runs  # noqa: F401  (registers the resolvers used in hydra.run.dir)
from stance.cli import run
from stance.config_schemas import EvaluateConfig
from stance.experiment.commands import evaluate_command

if __name__ == "__main__":
    run(evaluate_command, EvaluateConfig, "evaluate", model_path=True)
