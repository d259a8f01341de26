"""Stance metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stance.scoring.metrics import (
    classification_metrics,
    expected_calibration_error,
    probability_metrics,
    split_metrics,
)

CLASSES3 = ["pro", "anti", "neutral"]


def idx(labels: list[str], classes: list[str]) -> np.ndarray:
    """Label names -> indices."""
    return np.array([classes.index(x) for x in labels])


def test_f_avg_counts_neutral_only_through_its_errors() -> None:
    gold = idx(["pro", "pro", "anti", "anti", "neutral"], CLASSES3)
    pred = idx(["pro", "anti", "anti", "anti", "pro"], CLASSES3)
    m = classification_metrics(gold, pred, CLASSES3, "neutral")
    # pro: tp=1, fp=1 (the neutral one), fn=1 -> 2/4; anti: tp=2, fp=1, fn=0 -> 4/5; neutral: 0.
    assert m["f1/pro"] == pytest.approx(0.5)
    assert m["f1/anti"] == pytest.approx(0.8)
    assert m["f1/neutral"] == 0.0
    assert m["f_avg"] == pytest.approx(0.65)
    assert m["f1_macro"] == pytest.approx(1.3 / 3)
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["precision/anti"] == pytest.approx(2 / 3)
    assert m["recall/pro"] == pytest.approx(0.5)
    assert m["confusion/neutral/pro"] == 1
    assert m["confusion/pro/anti"] == 1
    assert m["support/anti"] == 2


def test_binary_f_avg_is_macro_f1() -> None:
    classes = ["pro", "anti"]
    gold = idx(["pro", "pro", "anti", "anti"], classes)
    pred = idx(["pro", "anti", "anti", "anti"], classes)
    m = classification_metrics(gold, pred, classes, "neutral")
    # pro: 2/(2+0+1) = 2/3; anti: 4/(4+1+0) = 0.8.
    assert m["f_avg"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["f_avg"] == pytest.approx(m["f1_macro"])


def test_expected_calibration_error_by_hand() -> None:
    proba = np.array([[0.9, 0.1], [0.6, 0.4]])
    gold = np.array([0, 1])
    # Two bins of one example each: |1 - 0.9| / 2 + |0 - 0.6| / 2.
    assert expected_calibration_error(gold, proba) == pytest.approx(0.35)


def test_auc_perfect_and_reversed_ranking() -> None:
    gold = np.array([0, 0, 1, 1])
    good = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    assert probability_metrics(gold, good, ["pro", "anti"])["roc_auc"] == pytest.approx(1.0)
    assert probability_metrics(gold, good, ["pro", "anti"])["pr_auc"] == pytest.approx(1.0)
    bad = good[:, ::-1]
    assert probability_metrics(gold, bad, ["pro", "anti"])["roc_auc"] == pytest.approx(0.0)


def test_auc_skips_a_class_absent_from_the_split() -> None:
    gold = np.array([0, 0, 1, 1])  # no neutral in this split
    proba = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    assert probability_metrics(gold, proba, CLASSES3)["roc_auc"] == pytest.approx(1.0)


def test_split_metrics_interval_and_groups() -> None:
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, size=200)
    wrong = rng.random(200) < 0.2
    pred = np.where(wrong, 1 - gold, gold)
    proba = np.eye(2)[pred] * 0.8 + 0.1
    groups = {"target": ["a"] * 100 + ["b/c"] * 100}
    m = split_metrics(gold, proba, ["pro", "anti"], None, groups, n_bootstrap=300, seed=1)
    assert m["f_avg_ci_low"] < m["f_avg"] < m["f_avg_ci_high"]
    assert m["f_avg_ci_high"] - m["f_avg_ci_low"] < 0.25
    part = classification_metrics(gold[:100], pred[:100], ["pro", "anti"], None)
    assert m["by_target/a/f_avg"] == pytest.approx(part["f_avg"])
    assert m["by_target/b_c/n"] == 100  # a slash in a group name cannot nest the key


def test_the_datasets_own_metric_gets_an_interval_on_the_same_resamples() -> None:
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 3, size=300)
    pred = np.where(rng.random(300) < 0.3, rng.integers(0, 3, size=300), gold)
    proba = np.eye(3)[pred] * 0.7 + 0.1
    classes = ["anti", "neutral", "pro"]
    plain = split_metrics(gold, proba, classes, "neutral", n_bootstrap=200, seed=3)
    both = split_metrics(
        gold, proba, classes, "neutral", n_bootstrap=200, seed=3, intervals=("f_avg", "f1_macro")
    )
    assert "f1_macro_ci_low" not in plain
    assert both["f1_macro_ci_low"] < both["f1_macro"] < both["f1_macro_ci_high"]
    assert both["f_avg_ci_low"] == plain["f_avg_ci_low"]  # F_avg's interval is unchanged


def test_perfect_predictions_have_a_point_interval() -> None:
    gold = np.array([0, 1] * 20)
    proba = np.eye(2)[gold]
    m = split_metrics(gold, proba, ["pro", "anti"], None, n_bootstrap=100)
    assert (m["f_avg"], m["f_avg_ci_low"], m["f_avg_ci_high"]) == (1.0, 1.0, 1.0)
    assert m["ece"] == pytest.approx(0.0)


def test_the_no_stance_label_is_the_one_the_dataset_declares() -> None:
    # TweetEval-style names: "None" is the no-stance label, "neutral" is nowhere
    classes = ["Against", "None", "Favor"]
    gold = idx(["Favor", "Favor", "Against", "Against", "None"], classes)
    pred = idx(["Favor", "Against", "Against", "Against", "Favor"], classes)
    declared = classification_metrics(gold, pred, classes, "None")
    assert declared["f_avg"] == pytest.approx((0.5 + 0.8) / 2)  # Favor and Against only
    undeclared = classification_metrics(gold, pred, classes, None)
    assert undeclared["f_avg"] == pytest.approx(undeclared["f1_macro"])
