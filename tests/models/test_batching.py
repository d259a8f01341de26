"""Rows cut into batches for a model call, and probabilities turned into label names: the one
implementation that StanceModel, Predictor, the ONNX runtimes and evaluation share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value

from stance.experiment.evaluation import predict_split
from stance.models.base import StanceModel
from stance.models.batching import batched_proba, labels_from_proba
from stance.predict.loading import Predictor
from train_helpers import RuleModel

CLASSES = ["pro", "anti", "neutral"]
TEXTS = [f"text {i}" for i in range(7)]
TARGETS = [f"policy {i}" for i in range(7)]


def row_proba(texts: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
    """A probability row that names its text (and target), so any reordering shows."""
    out = np.zeros((len(texts), len(CLASSES)))
    for r, text in enumerate(texts):
        i = int(text.split()[-1])
        j = -1 if targets is None else int(targets[r].split()[-1])
        out[r] = [i, j, 100.0]
    return out


class Recorder:
    """``row_proba`` that writes down the texts and targets of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str] | None]] = []

    def __call__(self, texts: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
        self.calls.append((list(texts), None if targets is None else list(targets)))
        return row_proba(texts, targets)


class Rows(RuleModel):
    """A rule model whose probabilities come from ``Recorder``."""

    def __init__(self) -> None:
        self.classes_ = list(CLASSES)
        self.recorder = Recorder()

    def predict_proba(self, texts, targets=None, **options) -> np.ndarray:
        self.options = options
        proba = self.recorder(texts, targets)
        return proba / proba.sum(axis=1, keepdims=True)

    @property
    def uses_target(self) -> bool:
        return True


@pytest.mark.parametrize("batch_size", range(1, 9))
def test_every_batch_size_keeps_the_rows_in_order(batch_size: int) -> None:
    recorder = Recorder()
    proba = batched_proba(recorder, TEXTS, TARGETS, batch_size, len(CLASSES))
    assert np.array_equal(proba, row_proba(TEXTS, TARGETS))  # stacked in row order
    sizes = [len(texts) for texts, _ in recorder.calls]
    last = len(TEXTS) % batch_size or min(batch_size, len(TEXTS))
    assert sizes == [batch_size] * (len(sizes) - 1) + [last]  # only the last one partial
    assert [t for texts, _ in recorder.calls for t in texts] == TEXTS
    for texts, targets in recorder.calls:  # each batch gets its own rows' targets
        assert [t.split()[-1] for t in texts] == [g.split()[-1] for g in targets]


def test_no_targets_are_passed_as_none_and_empty_input_calls_nothing() -> None:
    recorder = Recorder()
    proba = batched_proba(recorder, TEXTS, None, 3, len(CLASSES))
    assert [targets for _, targets in recorder.calls] == [None, None, None]
    assert np.array_equal(proba[:, 1], [-1] * len(TEXTS))
    empty = Recorder()
    assert batched_proba(empty, [], None, 3, len(CLASSES)).shape == (0, len(CLASSES))
    assert empty.calls == []


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        batched_proba(Recorder(), TEXTS, None, 0, len(CLASSES))


def test_labels_are_the_argmax_over_classes_first_on_ties() -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(len(CLASSES)), size=50)
    proba[:5] = [[0.4, 0.4, 0.2], [0.3, 0.35, 0.35], [1 / 3] * 3, [0, 0, 1], [0.5, 0, 0.5]]
    labels = labels_from_proba(proba, CLASSES)
    old = np.asarray(CLASSES, dtype=object)[proba.argmax(axis=1)]  # what every caller wrote
    assert labels.dtype == object and list(labels) == list(old)
    assert list(labels[:5]) == ["pro", "anti", "pro", "neutral", "pro"]
    assert labels_from_proba(np.zeros((0, 3)), CLASSES).shape == (0,)


def test_a_model_and_a_predictor_label_through_the_shared_pieces() -> None:
    model = Rows()
    expected = labels_from_proba(row_proba(TEXTS, TARGETS), CLASSES)
    assert isinstance(model, StanceModel)
    assert list(model.predict(TEXTS, TARGETS)) == list(expected)
    predictor = Predictor(Rows(), path=None)  # type: ignore[arg-type]
    assert list(predictor.predict(TEXTS, TARGETS, batch_size=3)) == list(expected)
    sizes = [len(texts) for texts, _ in predictor.model.recorder.calls]
    assert sizes == [3, 3, 1]
    whole = predictor.predict_proba(TEXTS, TARGETS, batch_size=100)
    assert np.allclose(predictor.predict_proba(TEXTS, TARGETS, batch_size=2), whole)


def test_evaluation_batches_a_split_and_passes_the_options() -> None:
    features = Features(
        {"text": Value("string"), "target": Value("string"), "label": ClassLabel(names=CLASSES)}
    )
    data = Dataset.from_dict(
        {"text": TEXTS, "target": TARGETS, "label": [0] * len(TEXTS)}, features=features
    )
    model = Rows()
    proba = predict_split(model, data, batch_size=4, calibrated=False)
    assert [len(texts) for texts, _ in model.recorder.calls] == [4, 3]
    assert model.options == {"calibrated": False}
    assert np.allclose(proba, Rows().predict_proba(TEXTS, TARGETS))
    empty = predict_split(Rows(), data.select([]), batch_size=4)
    assert empty.shape == (0, len(CLASSES))
