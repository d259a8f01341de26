"""TF-IDF baselines: the model contract, target awareness, and skops persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from datasets import ClassLabel, Dataset, Features, Value

from stance import models
from stance.errors import StanceError
from stance.models.sklearn_models import SKOPS_FILE, TfidfStanceModel

NAMES = ["anti", "pro"]  # not alphabetical in spirit: columns must follow this declared order


def flipped_by_target(n: int, seed: int) -> Dataset:
    """The cue word means ``pro`` for target ``tax`` and ``anti`` for target ``war``.

    Without the target the text says nothing about the label; with it the label is certain.
    """
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"text": [], "label": [], "target": []}
    for _ in range(n):
        target, cue = rng.choice(["tax", "war"]), rng.choice(["raise", "cut"])
        label = "pro" if (target == "tax") == (cue == "raise") else "anti"
        filler = " ".join(rng.choice(["the", "plan", "said", "today", "they"], size=5))
        rows["text"].append(f"{filler} {cue} it")
        rows["label"].append(NAMES.index(label))
        rows["target"].append(str(target))
    features = Features(text=Value("string"), label=ClassLabel(names=NAMES), target=Value("string"))
    return Dataset.from_dict(rows, features=features)


def accuracy(model: TfidfStanceModel, data: Dataset) -> float:
    """Share of rows where the predicted name equals the gold name."""
    pred = model.predict(data["text"], list(data["target"]))
    gold = np.asarray(NAMES, dtype=object)[data["label"]]
    return float(np.mean(pred == gold))


@pytest.fixture(scope="module")
def data() -> tuple[Dataset, Dataset]:
    """Train and test splits of ``flipped_by_target``."""
    return flipped_by_target(160, 0), flipped_by_target(60, 1)


@pytest.mark.parametrize("classifier", ["logreg", "svm"])
def test_contract(classifier: str, data: tuple[Dataset, Dataset]) -> None:
    train, test = data
    model = TfidfStanceModel(classifier=classifier, target_mode="features").fit(train)
    assert model.classes_ == NAMES
    proba = model.predict_proba(test["text"], list(test["target"]))
    assert proba.shape == (len(test), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    pred = model.predict(test["text"], list(test["target"]))
    assert list(pred) == [NAMES[i] for i in proba.argmax(axis=1)]


@pytest.mark.parametrize("mode", ["features", "per_target"])
def test_target_aware_modes_learn_what_text_alone_cannot(
    mode: str, data: tuple[Dataset, Dataset]
) -> None:
    train, test = data
    blind = TfidfStanceModel(target_mode="none", char_ngrams=None).fit(train)
    aware = TfidfStanceModel(
        target_mode=mode, char_ngrams=None, min_target_examples=20, target_feature_weight=1.0
    ).fit(train)
    assert not blind.uses_target and aware.uses_target
    assert accuracy(blind, test) < 0.75
    assert accuracy(aware, test) > 0.95


def test_per_target_needs_enough_rows_per_target(data: tuple[Dataset, Dataset]) -> None:
    train = data[0]  # 73 rows of target tax, 87 of war
    few = TfidfStanceModel(target_mode="per_target", min_target_examples=88).fit(train)
    assert few.per_target_ == {}  # both share the global model (which still reads the target)
    one = TfidfStanceModel(target_mode="per_target", min_target_examples=80).fit(train)
    assert set(one.per_target_) == {"war"}
    some = TfidfStanceModel(target_mode="per_target", min_target_examples=20).fit(train)
    assert set(some.per_target_) == {"tax", "war"}


def test_target_aware_model_needs_targets(data: tuple[Dataset, Dataset]) -> None:
    model = TfidfStanceModel(target_mode="per_target", min_target_examples=20).fit(data[0])
    with pytest.raises(StanceError, match="needs one per text"):
        model.predict_proba(["they cut it"])


@pytest.mark.parametrize("mode", ["features", "per_target"])
def test_unseen_target_falls_back_to_shared_weights(
    mode: str, data: tuple[Dataset, Dataset]
) -> None:
    model = TfidfStanceModel(target_mode=mode, min_target_examples=20).fit(data[0])
    assert model.uses_target
    proba = model.predict_proba(["they raise it", "they cut it"], ["health", "health"])
    assert np.allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("mode", ["none", "features", "per_target"])
@pytest.mark.parametrize("classifier", ["logreg", "svm"])
def test_save_load_round_trip(
    mode: str, classifier: str, data: tuple[Dataset, Dataset], tmp_path: Path
) -> None:
    train, test = data
    model = TfidfStanceModel(
        classifier=classifier, target_mode=mode, C=2.0, min_target_examples=20
    ).fit(train)
    model.save(tmp_path / "m")
    loaded = models.load(tmp_path / "m")
    assert isinstance(loaded, TfidfStanceModel)
    assert loaded.C == 2.0 and loaded.classes_ == NAMES and loaded.target_mode == mode
    targets = list(test["target"])
    assert np.array_equal(
        loaded.predict_proba(test["text"], targets), model.predict_proba(test["text"], targets)
    )


class Untrusted:
    """A type that is neither in skops' defaults nor in TRUSTED_TYPES."""


def test_untrusted_types_refuse_to_load(data: tuple[Dataset, Dataset], tmp_path: Path) -> None:
    model = TfidfStanceModel(target_mode="none").fit(data[0])
    model.save(tmp_path / "m")
    state = sio.load(
        tmp_path / "m" / SKOPS_FILE,
        trusted=sio.get_untrusted_types(file=tmp_path / "m" / SKOPS_FILE),
    )
    state["per_target"] = {"tax": Untrusted()}
    sio.dump(state, tmp_path / "m" / SKOPS_FILE)
    with pytest.raises(StanceError, match=r"refusing to load.*Untrusted"):
        models.load(tmp_path / "m")


def test_corrupt_model_file_is_a_clear_error(data: tuple[Dataset, Dataset], tmp_path: Path) -> None:
    TfidfStanceModel(target_mode="none").fit(data[0]).save(tmp_path / "m")
    (tmp_path / "m" / SKOPS_FILE).write_bytes(b"half a file")
    with pytest.raises(StanceError, match="not a readable skops file"):
        models.load(tmp_path / "m")


def test_build_from_config_ignores_name() -> None:
    model = models.build(
        {
            "_target_": "stance.models.sklearn_models.TfidfStanceModel",
            "name": "tfidf_svm",
            "classifier": "svm",
            "word_ngrams": [1, 3],
        }
    )
    assert model.classifier == "svm" and model.word_ngrams == [1, 3]  # stored as given


def test_bad_hyperparameter_is_a_user_error() -> None:
    model = TfidfStanceModel(target_mode="sometimes")  # stored; fit checks (scikit-learn's rule)
    with pytest.raises(StanceError, match="target_mode"):
        model.fit(flipped_by_target(20, 0))


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(StanceError, match="not a model folder"):
        models.load(tmp_path)
    (tmp_path / "stance_model.json").write_text('{"family": "mystery", "classes": []}')
    with pytest.raises(StanceError, match="family 'mystery' is not one of"):
        models.load(tmp_path)
