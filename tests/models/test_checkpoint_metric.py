"""A 3-way dataset that declares `metric: f1_macro` picks the transformer's checkpoint by macro-F1
(tiny random BERT from conftest.py), records the metric and heads its report with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

# words of the tiny BERT's vocabulary (conftest.WORDS)
PRO = ["support", "great", "good", "helps"]
ANTI = ["oppose", "bad", "harms", "hurts"]
FILLER = ["plan", "law", "this", "of"]
TOPICS = ["tax", "wall", "tariff", "climate"]

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
LABELS = ["anti", "neutral", "pro"]


def three_way(n: int, seed: int) -> Dataset:
    """Rows whose cue words decide the label; neutral rows have none."""
    rows: dict[str, list] = {"id": [], "text": [], "label": [], "target": []}
    for i in range(n):
        label = (i + seed) % 3
        cue = [ANTI, FILLER, PRO][label][(i * 7 + seed) % len(PRO)]
        topic = TOPICS[(i * 5 + seed) % len(TOPICS)]
        rows["id"].append(f"t{seed}-{i}")
        rows["text"].append(f"the {topic} policy is {cue} and we {cue} it")
        rows["label"].append(label)
        rows["target"].append(topic)
    features = {"id": Value("string"), "text": Value("string"), "target": Value("string")}
    features["label"] = ClassLabel(names=LABELS)
    return Dataset.from_dict(rows, features=Features(features))


@pytest.fixture(scope="module")
def macro_run(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train(cfg)`` with ``dataset.metric=f1_macro``, checkpoints kept."""
    from hydra import compose, initialize_config_dir

    import stance.config_schemas
    import stance.runs  # noqa: F401  (schemas and the resolvers the train config uses)
    from stance.experiment.training import train

    data = DatasetDict(train=three_way(48, 0), validation=three_way(24, 1), test=three_way(24, 2))
    run_dir = tmp_path_factory.mktemp("macro")
    overrides = ["~dataset", "+dataset={name: toy3, metric: f1_macro}", "evaluation.bootstrap=0"]
    overrides += ["model=transformer", f"model.pretrained={tiny_bert}", f"run_dir={run_dir}"]
    tiny = {"max_length": 32, "stride": 8, "learning_rate": 0.01, "batch_size": 8,
            "min_steps": 30, "eval_steps": 3, "save_steps": 3, "max_evals": None,
            "logging_steps": 1000, "progress_bar": False, "early_stopping_patience": None,
            "keep_checkpoints": True, "calibrate": False}  # fmt: skip
    overrides += [f"model.{key}={json.dumps(value)}" for key, value in tiny.items()]
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    card = {"fingerprint": "toy3", "neutral_label": "neutral"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("stance.experiment.training.prepare_dataset", lambda *_: (data, card))
        train(cfg)
    return run_dir


def test_checkpoint_is_chosen_by_the_datasets_metric(macro_run: Path) -> None:
    config = (macro_run / "config.yaml").read_text()
    assert "metric_for_best_model: f1_macro" in config  # filled in from dataset.metric
    last = max((macro_run / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name[11:]))
    state = json.loads((last / "trainer_state.json").read_text())
    evals = [e for e in state["log_history"] if "eval_f1_macro" in e]
    assert len(evals) >= 5
    macro = {e["step"]: e["eval_f1_macro"] for e in evals}
    assert state["best_metric"] == pytest.approx(max(macro.values()))
    best_step = int(state["best_model_checkpoint"].rsplit("-", 1)[1])
    assert macro[best_step] == max(macro.values())


def test_run_record_summary_and_report_use_the_datasets_metric(macro_run: Path) -> None:
    assert json.loads((macro_run / "run.json").read_text())["metric"] == "f1_macro"
    metrics = json.loads((macro_run / "metrics.json").read_text())
    page = (macro_run / "report.html").read_text()
    assert f"<h2>test: macro-F1 {metrics['test/f1_macro']:.3f}" in page
    assert "<h2>test: F_avg" not in page
