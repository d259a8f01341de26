"""python scripts/train.py [dataset=NAME] [model=NAME] [logger=mlflow] [model.C=0.5] [rerun=true]

Builds the dataset when missing or stale, trains, evaluates on validation and test, and writes the
run record (metrics.json, predictions, report.html, the model) into the run directory.
"""

from __future__ import annotations

import stance.runs  # noqa: F401  (registers the resolvers used in hydra.run.dir)
from stance.cli import run
from stance.config_schemas import TrainConfig
from stance.experiment.commands import train_command

if __name__ == "__main__":
    run(train_command, TrainConfig, "train")
