"""Stance classification experiments: datasets, models, evaluation and comparison."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public API, imported on first use so that `import stance` stays light (no torch, no datasets).
_API = {
    "load_model": "stance.predict",
    "build_dataset": "stance.data",
    "train": "stance.experiment.training",
    "evaluate": "stance.experiment.evaluation",
    "StanceError": "stance.errors",  # every user-facing error: `except stance.StanceError`
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    """Import ``stance.<api>`` lazily: ``stance.train(cfg)``, ``stance.load_model(path)``, ..."""
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
