"""Label texts with a saved model: `python scripts/predict.py model=PATH input=FILE`."""

from __future__ import annotations

from stance.cli import run
from stance.config_schemas import PredictConfig
from stance.predict.command import predict_command

if __name__ == "__main__":
    run(predict_command, PredictConfig, "predict", model_path=True)
