"""Experiment loggers chosen by ``logger=``: ``none`` (the run record only) or ``mlflow``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stance.errors import StanceError, problem

# MLflow allows letters, digits, _ - . / and space in metric and param names.
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-./ ]")
_MAX_PARAM_CHARS = 500


class NullTracker:
    """The default: log nothing beyond the run directory itself."""

    def log_run(
        self, name: str, params: Mapping[str, Any], metrics: Mapping[str, float], run_dir: Path
    ) -> str | None:
        """Do nothing; returns no tracker run id."""
        return None


class MlflowTracker:
    """Log params, metrics and the run directory's files as artifacts to an MLflow store."""

    def __init__(self, tracking_uri: str, experiment: str = "stance") -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment

    def log_run(
        self, name: str, params: Mapping[str, Any], metrics: Mapping[str, float], run_dir: Path
    ) -> str | None:
        """One MLflow run named ``name``; returns its run id."""
        try:
            import mlflow
        except ImportError as err:
            raise StanceError(
                problem("logger=mlflow", "mlflow is not installed", 'pip install -e ".[mlflow]"')
            ) from err
        if self.tracking_uri.startswith("sqlite:///"):
            # SQLite needs the folder of the database file to exist.
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_experiment(self.experiment)
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_params({_safe(k): str(v)[:_MAX_PARAM_CHARS] for k, v in params.items()})
            mlflow.log_metrics(
                {_safe(k): float(v) for k, v in metrics.items() if not math.isnan(float(v))}
            )
            mlflow.log_artifacts(str(run_dir))
            return run.info.run_id


def _safe(key: str) -> str:
    """A metric or param name MLflow accepts."""
    return _UNSAFE.sub("_", key)


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> ``{"model.C": 1.0, ...}`` for tracker params."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
