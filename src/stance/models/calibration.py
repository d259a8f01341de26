"""Temperature scaling (Guo et al. 2017): one scalar that makes a model's probabilities honest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import StanceError, problem


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, k) scores, stable for large values."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T in [e^-3, e^3] minimising the negative log-likelihood of softmax(z / T)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(gold))

    def nll(log_t: float) -> float:
        proba = softmax(logits / np.exp(log_t))
        return -float(np.log(np.maximum(proba[rows, gold], 1e-12)).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def temper(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities (n, k) at ``temperature``: softmax(log p / T), a zero staying zero (a class
    a per-target classifier never saw keeps no mass)."""
    if temperature == 1.0 or len(proba) == 0:
        return proba
    with np.errstate(divide="ignore"):
        scaled = np.log(proba) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_proba_temperature(proba: np.ndarray, gold: np.ndarray) -> float:
    """``fit_temperature`` for a model that gives probabilities, not logits (log p as logits)."""
    return fit_temperature(np.log(np.maximum(proba, 1e-12)), np.asarray(gold, dtype=int))


def read_temperature(meta: dict, file: Path) -> float:
    """The ``temperature`` of a model folder's metadata (1 when absent), refused unless in
    [1e-6, 1e6]: the folder is untrusted data and a zero would divide."""
    value = meta.get("temperature", 1.0)
    if type(value) not in (int, float) or not 1e-6 <= value <= 1e6:  # NaN fails too
        what = f"temperature {value!r:.40} is not a number in [1e-6, 1e6]"
        raise StanceError(problem(str(file), what, "retrain the model, or set it to 1"))
    return float(value)


def fit_on_validation(model: Any, validation: Any, say: Callable[[str], None]) -> float:
    """The temperature of a model that gives probabilities (``predict_proba(texts, targets,
    calibrated=False)``), fitted on the rows of the ``validation`` split, never on test; 1
    without any. ``say`` announces the phase."""
    if validation is None or not len(validation):
        return 1.0
    say(f"calibration: a temperature on {len(validation)} validation rows")
    paired = model.uses_target and "target" in validation.column_names
    targets = validation["target"] if paired else None
    raw = model.predict_proba(validation["text"], targets, calibrated=False)
    return fit_proba_temperature(raw, np.asarray(validation["label"]))
