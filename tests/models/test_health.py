"""The stall and collapse checks: chance loss, flat metrics.json keys and their sentences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stance.models import health

FLAT = {"loss_first": 1.096, "loss_last": 1.093, "steps": 14, "chance_loss": math.log(3)}


def test_chance_loss_is_ln_k_under_balanced_weights_and_the_prior_entropy_without() -> None:
    counts = [60, 30, 10]
    balanced = [100 / (3 * c) for c in counts]  # n / (k * count), as the transformer weighs
    assert health.chance_loss(counts, balanced) == pytest.approx(math.log(3))
    prior = np.array(counts) / 100
    assert health.chance_loss(counts) == pytest.approx(-(prior * np.log(prior)).sum())


def test_a_flat_loss_is_a_stall_and_a_falling_one_is_not() -> None:
    stalled = health.fit_metrics(FLAT)
    assert stalled["health/stalled"] == 1.0
    assert stalled["train/loss_first"] == pytest.approx(1.096)
    assert stalled["train/steps"] == 14.0
    assert health.fit_metrics({**FLAT, "loss_last": 0.4})["health/stalled"] == 0.0
    # a loss that starts low but ends at chance has still learned nothing
    assert health.fit_metrics({**FLAT, "loss_first": 0.9})["health/stalled"] == 1.0


def test_without_a_chance_loss_the_first_loss_is_the_reference() -> None:
    # setfit's contrastive body: no chance level, a text naming the loss
    log = {"loss_first": 0.25, "loss_last": 0.24, "steps": 40, "loss": "cosine similarity (MSE)"}
    assert health.fit_metrics(log)["health/stalled"] == 1.0
    assert health.fit_metrics({**log, "loss_last": 0.05})["health/stalled"] == 0.0
    assert "train/loss" not in health.fit_metrics(log)  # a text is no metric


@pytest.mark.parametrize("log", [None, {}, {"loss_first": None, "loss_last": None, "steps": 0}])
def test_closed_form_fits_have_no_stall_check(log: dict | None) -> None:
    assert "health/stalled" not in health.fit_metrics(log)


def test_one_predicted_class_is_a_collapse() -> None:
    gold = np.array([0, 1, 2, 0, 1, 2])
    collapsed = health.prediction_metrics(gold, np.zeros(6, dtype=int), 3, "test")
    assert collapsed == {"health/collapsed_test": 1.0, "health/unpredicted_test": 2.0}
    fine = health.prediction_metrics(gold, np.array([0, 1, 2, 0, 1, 0]), 3, "test")
    assert fine == {"health/collapsed_test": 0.0, "health/unpredicted_test": 0.0}
    # a split whose gold holds one class may be predicted as that class alone
    one = health.prediction_metrics(np.zeros(4, dtype=int), np.zeros(4, dtype=int), 3, "test")
    assert one["health/collapsed_test"] == 0.0


def split_keys(split: str, confusion: list[list[int]], classes: list[str]) -> dict[str, float]:
    """The support and confusion keys ``split_metrics`` writes, from a confusion matrix."""
    out = {}
    for i, g in enumerate(classes):
        out[f"{split}/support/{g}"] = float(sum(confusion[i]))
        for j, p in enumerate(classes):
            out[f"{split}/confusion/{g}/{p}"] = float(confusion[i][j])
    return out


def test_warnings_spell_out_the_flags() -> None:
    classes = ["pro", "anti", "neutral"]
    metrics = split_keys("test", [[3, 0, 0], [4, 0, 0], [5, 0, 0]], classes)
    metrics.update(split_keys("validation", [[3, 1, 0], [0, 4, 0], [2, 2, 0]], classes))
    gold = {"test": np.repeat([0, 1, 2], [3, 4, 5]), "validation": np.repeat([0, 1, 2], 4)}
    # validation as in its confusion matrix: row by row, 'neutral' never predicted
    pred = {
        "test": np.zeros(12, dtype=int),
        "validation": np.array([0, 0, 0, 1] + [1] * 4 + [0, 0, 1, 1]),
    }
    predictions = {split: (gold[split], pred[split]) for split in gold}
    metrics.update(health.health_metrics(FLAT, predictions, 3))
    lines = health.warnings(metrics)
    assert lines[0] == (
        "training loss did not fall (first 1.096, last 1.093, chance 1.099, 14 steps): "
        "the model learned nothing"
    )
    assert "predictions collapsed to one class (all 'pro' on test)" in lines
    assert "'neutral' never predicted on validation (4 rows are 'neutral')" in lines
    assert len(lines) == 3


def test_a_healthy_run_has_no_warnings() -> None:
    classes = ["pro", "anti"]
    metrics = split_keys("test", [[3, 1], [1, 3]], classes)
    gold, pred = np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 0, 1, 0, 1, 1, 1])
    metrics.update(health.health_metrics({**FLAT, "loss_last": 0.3}, {"test": (gold, pred)}, 2))
    assert health.warnings(metrics) == []
