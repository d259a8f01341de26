"""Fine-tuning on a few hundred rows learns (issue 19): min_steps, the head's learning rate and
early stopping that waits for learning; a run that still learns nothing is flagged."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset
from transformers import AutoModelForSequenceClassification, TrainerControl, TrainerState

from stance.models import health
from stance.models.transformer.model import TransformerStanceModel
from stance.models.transformer.progress import LearnedEarlyStopping
from stance.models.transformer.settings import TrainSettings
from stance.models.transformer.train import StanceTrainer, training_arguments

LABELS = ["pro", "anti", "neutral"]
# The reproduction: 2 epochs of ~105 training rows in batches of 16 are 14 steps.
FEW_EPOCHS = {"epochs": 2, "progress_bar": False, "seed": 0}
# the tiny random BERT learns at a higher rate than a pretrained body (as in test_transformer.py)
TINY = {"max_length": 32, "stride": 8, "learning_rate": 0.01}


def three_class_split(toy_split: Callable, n: int, seed: int) -> Dataset:
    """A toy split with every third paragraph made neutral: its two stance cues become "plan"."""
    split = toy_split(n, seed)
    rows = split.to_dict()
    for i in range(2, n, 3):
        words = rows["text"][i].split()
        words[4] = words[7] = "plan"  # "the <topic> policy is <cue> and we <cue> it"
        rows["text"][i], rows["label"][i] = " ".join(words), LABELS.index("neutral")
    features = split.features.copy()
    features["label"] = ClassLabel(names=LABELS)
    return Dataset.from_dict(rows, features=features)


def fit_150_rows(toy_split: Callable, **settings: object) -> tuple[TransformerStanceModel, set]:
    """Train on 105 rows (validation 24); the model and the classes it predicts on 24 others."""
    train, validation = three_class_split(toy_split, 105, 0), three_class_split(toy_split, 24, 1)
    model = TransformerStanceModel(**settings).fit(train, validation)
    test = three_class_split(toy_split, 24, 2)
    assert sorted(set(test["label"])) == [0, 1, 2]
    return model, set(model.predict(test["text"], test["target"]))


def assert_learned(model: TransformerStanceModel, predicted: set) -> None:
    log = model.fit_log_
    # balanced class weights over paragraphs; the loss runs over windows, a few more of some class
    assert log["chance_loss"] == pytest.approx(math.log(3), abs=0.01)
    assert log["loss_first"] == pytest.approx(math.log(3), abs=0.05)  # a fresh head: at chance
    assert log["loss_last"] < 0.7 * log["loss_first"]
    assert health.fit_metrics(log)["health/stalled"] == 0.0
    assert len(predicted) > 1


@pytest.mark.parametrize("family", ["tiny_bert", "tiny_roberta"])
def test_two_epochs_on_150_rows_learn(
    family: str, toy_split: Callable, request: pytest.FixtureRequest
) -> None:
    pretrained = request.getfixturevalue(family)
    model, predicted = fit_150_rows(toy_split, pretrained=str(pretrained), **TINY, **FEW_EPOCHS)
    assert model.fit_log_["steps"] == TrainSettings().min_steps
    assert_learned(model, predicted)


def test_the_old_recipe_stalls_at_chance_and_says_so(tiny_bert: Path, toy_split: Callable) -> None:
    # min_steps=0 and one learning rate: the recipe before issue 19, 14 steps
    old = {"min_steps": 0, "head_learning_rate": None}
    model, _ = fit_150_rows(toy_split, pretrained=str(tiny_bert), **TINY, **FEW_EPOCHS, **old)
    assert model.fit_log_["steps"] == 14
    flags = health.fit_metrics(model.fit_log_)
    assert flags["health/stalled"] == 1.0
    assert health.warnings(flags)[0].startswith("training loss did not fall (first ")


@pytest.mark.slow
def test_packaged_minilm_learns_from_150_rows_in_two_epochs(toy_split: Callable) -> None:
    # the issue's `model=minilm model.epochs=2`: the loss stayed at ln 3 = 1.099 (measured 1.095
    # -> 1.094 in 14 steps); with min_steps it fell to 0.001 in 200 steps
    assert_learned(*fit_150_rows(toy_split, **FEW_EPOCHS))


def test_epochs_that_give_too_few_steps_train_min_steps() -> None:
    assert TrainSettings(epochs=2, batch_size=16).optimizer_steps(105) == 200  # 2 x 7 < 200
    assert TrainSettings(epochs=2, batch_size=16, min_steps=10).optimizer_steps(105) == -1
    assert TrainSettings(epochs=40, batch_size=16).optimizer_steps(105) == -1  # 280: epochs
    assert TrainSettings(epochs=2, batch_size=8).optimizer_steps(105, ranks=2) == 200
    assert TrainSettings(epochs=2, max_steps=6).optimizer_steps(105) == 6  # max_steps wins


def test_the_fresh_head_gets_its_own_learning_rate(tiny_roberta: Path, tmp_path: Path) -> None:
    network = AutoModelForSequenceClassification.from_pretrained(tiny_roberta)
    settings = TrainSettings(learning_rate=1e-4, head_learning_rate=3e-3)
    trainer = StanceTrainer(
        model=network,
        args=training_arguments(settings, tmp_path, with_validation=False),
        class_weights=None,
        train_lengths=[],
        head_learning_rate=settings.head_learning_rate,
    )
    rate = {id(p): group["lr"] for group in trainer.create_optimizer().param_groups
            for p in group["params"]}  # fmt: skip
    named = dict(network.named_parameters())
    assert len(rate) == len(named)  # every parameter in exactly one group
    head = {name for name in named if not name.startswith("roberta.")}
    assert head == {name for name in named if name.startswith("classifier.")} != set()
    assert {rate[id(named[name])] for name in head} == {3e-3}
    assert {rate[id(p)] for name, p in named.items() if name not in head} == {1e-4}


def stop_after(losses: list[float], steps: list[int], **gates: object) -> int | None:
    """The step at which ``LearnedEarlyStopping`` (patience 2) stops a run whose validation
    metric never improves on its first value; None when it never does."""
    args = training_arguments(TrainSettings(), "unused", with_validation=True)
    callback = LearnedEarlyStopping(2, **gates)
    state, control = TrainerState(), TrainerControl()
    state.best_metric = 0.5
    for loss, step in zip(losses, steps, strict=True):
        state.global_step = step
        state.log_history.append({"loss": loss, "step": step})
        callback.on_evaluate(args, state, control, metrics={"eval_f_avg": 0.5})
        if control.should_training_stop:
            return step
    return None


def test_early_stopping_waits_for_the_loss_to_leave_chance_and_for_min_steps() -> None:
    chance = math.log(3)
    steps = [20, 40, 60, 80, 100, 120]
    assert stop_after([chance] * 6, steps, chance_loss=chance) is None  # never started
    learning = [chance, chance, chance, 0.8, 0.7, 0.7]
    assert stop_after(learning, steps, chance_loss=chance) == 100  # counted from step 80
    assert stop_after(learning, steps, chance_loss=chance, min_steps=100) == 120
    assert stop_after([0.5] * 6, steps, chance_loss=chance) == 40  # learning from the start


def test_bad_small_data_settings_are_user_errors() -> None:
    from stance.errors import StanceError

    with pytest.raises(StanceError, match=r"model\.min_steps"):
        TrainSettings(min_steps=-1)
    with pytest.raises(StanceError, match=r"model\.head_learning_rate"):
        TrainSettings(head_learning_rate=0)


def test_torch_is_not_needed_to_check_health() -> None:
    import subprocess
    import sys

    code = "import sys, stance.models.health; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
