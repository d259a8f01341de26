"""Temperature scaling (Guo et al. 2017): one scalar that makes a model's probabilities honest."""

from __future__ import annotations

import numpy as np


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
