"""Label texts with a saved model: `python scripts/predict.py model=PATH input=FILE`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli import model_path_argv, script_help, user_errors
from stance.config_schemas import PredictConfig  # (importing it registers the schemas)
from stance.predict.command import predict_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="predict")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.predict.predict_command``."""
    predict_command(cfg)


if __name__ == "__main__":
    script_help(sys.argv, __doc__, PredictConfig, "predict")
    sys.argv = model_path_argv(sys.argv)
    main()
