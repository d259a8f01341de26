"""Policies with few labels share one global model that still knows the policy (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset
from omegaconf import OmegaConf

from fixtures import flipped, to_dataset
from stance import models
from stance.experiment.model_card import model_card
from stance.models.base import read_meta
from stance.models.sklearn_models import TfidfStanceModel
from stance.models.targets import closest_target, target_report, unseen_targets
from train_helpers import compose_cfg

POLICIES = ["tariffs", "sanctions", "aid"]  # "raise" is pro for tariffs and aid, anti for sanctions


def flipped_policies(n: int, seed: int, big: str | None = None) -> Dataset:
    """The issue's reproduction: ``n`` rows per policy (3 * n for ``big``), a cue word plus
    filler, where the cue means pro for two policies and anti for the third."""
    sizes = {policy: 3 * n if policy == big else n for policy in POLICIES}
    return to_dataset(flipped(sizes, seed, anti=["sanctions"]), ("pro", "anti"))


def configured(**overrides: object) -> TfidfStanceModel:
    """The shipped ``tfidf_logreg`` config (its C, target mode and weights), with overrides."""
    model = models.build(compose_cfg("train", ["model=tfidf_logreg"]).model, **overrides)
    assert isinstance(model, TfidfStanceModel)
    return model


def accuracy(model: TfidfStanceModel, data: Dataset) -> float:
    pred = model.predict(data["text"], list(data["target"]))
    return float(np.mean(pred == np.asarray(["pro", "anti"])[data["label"]]))


@pytest.fixture(scope="module")
def data() -> tuple[Dataset, Dataset]:
    return flipped_policies(50, 0), flipped_policies(30, 1)


def test_the_shared_model_knows_the_policy_below_min_target_examples(
    data: tuple[Dataset, Dataset],
) -> None:
    train, test = data  # 50 rows per policy, below min_target_examples (100)
    blind = configured(target_mode="none").fit(train)
    shared = configured().fit(train)
    assert shared.per_target_ == {} and shared.uses_target
    assert shared.seen_targets_ == sorted(POLICIES) and blind.seen_targets_ is None
    one = shared.predict_proba(["we raise it"] * 3, POLICIES)
    assert one[0, 0] > one[1, 0] and one[2, 0] > one[1, 0]  # "raise": pro unless sanctions
    assert accuracy(shared, test) > accuracy(blind, test)
    # where the policies' words mean opposite things, a stronger copy learns it outright
    strong = configured(target_feature_weight=1.0).fit(train)
    assert accuracy(strong, test) > accuracy(blind, test) + 0.15


def test_stance_model_json_and_the_report_say_who_shares(
    data: tuple[Dataset, Dataset], tmp_path: Path
) -> None:
    train = flipped_policies(50, 0, big="aid")  # aid: 150 rows, enough for a classifier of its own
    model = configured().fit(train)
    assert set(model.per_target_) == {"aid"}
    model.save(tmp_path / "m")
    meta = read_meta(tmp_path / "m")
    assert meta["seen_targets"] == ["aid", "sanctions", "tariffs"]
    assert meta["target_sharing"]["own_classifier"] == {"aid": 150}
    assert meta["target_sharing"]["shared"] == {"sanctions": 50, "tariffs": 50}
    assert "weight 0.15" in meta["target_sharing"]["shared_model"]
    loaded = models.load(tmp_path / "m")
    assert loaded.seen_targets_ == meta["seen_targets"]
    report = target_report(loaded)
    assert report[0] == "policies with their own classifier (1): aid (150 rows)"
    assert (
        report[1] == "policies sharing the global model (2): sanctions (50 rows), tariffs (50 rows)"
    )
    card = model_card({"model": "tfidf"}, OmegaConf.create({"seed": 0}), {}, policies=report)
    assert "## Policies (targets)\n\n- policies with their own classifier (1): aid" in card
    assert target_report(configured(target_mode="none").fit(train)) == [
        "policies: text-only model; the target (policy) is not used"
    ]


def test_a_model_from_before_the_weight_still_loads_as_it_was_trained(
    data: tuple[Dataset, Dataset], tmp_path: Path
) -> None:
    train, test = data
    old = TfidfStanceModel(target_mode="features", target_feature_weight=1.0, target_bias=True)
    old.fit(train).save(tmp_path / "m")
    meta_file = tmp_path / "m" / "stance_model.json"
    meta = read_meta(tmp_path / "m")
    for key in ("target_feature_weight", "target_bias"):
        del meta["params"][key]
    for key in ("seen_targets", "target_sharing"):
        del meta[key]
    meta_file.write_text(json.dumps(meta))
    loaded = models.load(tmp_path / "m")
    assert loaded.seen_targets_ is None and loaded.target_feature_weight == 1.0
    texts, targets = test["text"], list(test["target"])
    assert np.allclose(loaded.predict_proba(texts, targets), old.predict_proba(texts, targets))


def test_unseen_and_closest_targets() -> None:
    assert unseen_targets(None, ["a", "b"]) == []
    assert unseen_targets(["a"], ["a", "b", None, "b"]) == ["b"]
    assert closest_target("sanctons", POLICIES) == "sanctions"
    assert closest_target("climate", POLICIES) is None


def test_a_negative_weight_is_refused() -> None:
    from stance.errors import StanceError

    model = TfidfStanceModel(target_feature_weight=-1)  # stored; fit checks (scikit-learn's rule)
    with pytest.raises(StanceError, match="target_feature_weight"):
        model.fit(flipped_policies(20, 0))


def test_thousands_of_small_targets_get_no_block_of_their_own() -> None:
    """Issue 24's zero-shot corpus: a copy of the n-grams per target made the global model's
    dense coefficients ask for 72 GiB. Only the targets with the most rows get a block."""
    from stance.models.targets import MAX_BLOCKS, MIN_BLOCK_ROWS

    sizes = {f"topic {i:04d}": 2 for i in range(600)}  # many tiny topics
    sizes.update({f"mid {i:03d}": MIN_BLOCK_ROWS + 1 for i in range(MAX_BLOCKS + 20)})
    train = to_dataset(flipped(sizes, 0, anti=list(sizes), shuffle=False), ("pro", "anti"))
    model = configured(progress_bar=False).fit(train)
    assert len(model.targets_) == MAX_BLOCKS and all(t.startswith("mid") for t in model.targets_)
    width = len(model.vectorizer_.get_feature_names_out())
    assert model.classifier_.coef_.shape[1] == width * (1 + MAX_BLOCKS)  # not width * 721
    report = target_report(model)
    assert "620 targets with fewer rows read the shared weights alone" in report[-1]
    assert "(720): " in report[0] and "and 700 more" in report[0]  # a list, not 720 names
    assert model.predict(["raise the policy"], ["topic 0001"])[0] in ("pro", "anti")
