"""train(cfg) on composed real configs: the run record, reuse of complete runs, failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict

from fixtures import tiny_dataset
from stance import load_model, runs
from stance.errors import StanceError
from stance.experiment.evaluation import evaluate_saved
from stance.experiment.training import train
from stance.models.sklearn_models import TfidfStanceModel
from train_helpers import compose_cfg, run_script_in_process, write_csv

# Most tests feed train() an in-memory dataset; the script test builds a real one from CSV.
TINY_DATA = ["~dataset", "+dataset={name: tiny}", "evaluation.bootstrap=200"]
TINY = [*TINY_DATA, "model.char_ngrams=null"]  # word n-grams only: faster, same code paths


@pytest.fixture
def use_dataset(monkeypatch: pytest.MonkeyPatch):
    """Make ``prepare_dataset`` return the given DatasetDict with the given fingerprint."""

    def install(dataset: DatasetDict, fingerprint: str = "fp-1") -> None:
        def fake(dataset_cfg, processed_root):
            names = dataset["train"].features["label"].names
            neutral = "neutral" if "neutral" in names else None  # as a built card declares it
            return dataset, {"fingerprint": fingerprint, "neutral_label": neutral}

        monkeypatch.setattr("stance.experiment.training.prepare_dataset", fake)
        monkeypatch.setattr("stance.experiment.evaluation.prepare_dataset", fake)

    return install


def test_train_writes_the_whole_run_record(tmp_path: Path, use_dataset) -> None:
    data = tiny_dataset()
    use_dataset(data)
    run_dir = tmp_path / "run"
    metrics = train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"]))

    assert runs.read_run(run_dir)["status"] == "complete"
    assert runs.read_metrics(run_dir) == metrics
    for split in ("validation", "test"):
        assert f"{split}/f_avg" in metrics
        assert (run_dir / f"classification_report_{split}.txt").read_text().count("pro") >= 1
        assert (run_dir / f"confusion_matrix_{split}.png").read_bytes()[:4] == b"\x89PNG"
        assert len(runs.read_predictions(run_dir, split)) == len(data[split])
    for key in (
        "f_avg_ci_low",
        "f_avg_ci_high",
        "roc_auc",
        "pr_auc",
        "ece",
        "f1/anti",
        "by_target/aid/f_avg",
        "by_source/Wire/n",
        "confusion/pro/anti",
    ):
        assert f"test/{key}" in metrics
    assert metrics["test/f_avg"] > 0.6  # the cue words carry the label; 15% noise
    assert runs.read_config(run_dir).model.name == "tfidf_logreg"
    card = (run_dir / "model" / "README.md").read_text()
    assert "fp-1" in card and "test/f_avg" in card


def test_loaded_model_reproduces_the_predictions_file(tmp_path: Path, use_dataset) -> None:
    data = tiny_dataset()
    use_dataset(data)
    train(compose_cfg("train", [*TINY, f"run_dir={tmp_path}"]))
    stored = runs.read_predictions(tmp_path, "test")
    predictor = load_model(tmp_path)
    texts, targets = data["test"]["text"], list(data["test"]["target"])
    assert list(predictor.predict(texts, targets)) == [row["pred"] for row in stored]
    stored_proba = np.array([[row["proba"][c] for c in predictor.classes_] for row in stored])
    assert np.allclose(predictor.predict_proba(texts, targets), stored_proba, atol=1e-6)
    assert load_model(tmp_path / "model").classes_ == predictor.classes_


def test_complete_run_is_reused_unless_rerun_or_data_changed(
    tmp_path: Path, use_dataset, capsys: pytest.CaptureFixture
) -> None:
    use_dataset(tiny_dataset())
    run_dir = tmp_path / "run"
    cfg = compose_cfg("train", [*TINY, f"run_dir={run_dir}"])
    first = train(cfg)
    started = runs.read_run(run_dir)["started"]
    (run_dir / "marker").write_text("still here")
    assert train(cfg) == first
    assert "skipping" in capsys.readouterr().out
    assert runs.read_run(run_dir)["started"] == started
    train(compose_cfg("train", [*TINY, f"run_dir={run_dir}", "rerun=true"]))
    assert "skipping" not in capsys.readouterr().out

    use_dataset(tiny_dataset(), fingerprint="fp-2")  # other data: kept, trained next to it
    train(cfg)
    assert runs.read_run(run_dir)["dataset_fingerprint"] == "fp-1"
    assert runs.read_run(tmp_path / "run.round-0")["dataset_fingerprint"] == "fp-2"
    assert "skipping" not in capsys.readouterr().out


def test_failed_run_is_recorded_and_leaves_no_model(
    tmp_path: Path, use_dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_dataset(tiny_dataset())

    def broken_fit(self, train, validation=None, neutral_label=None):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(TfidfStanceModel, "fit", broken_fit)
    with pytest.raises(RuntimeError):
        train(compose_cfg("train", [*TINY, f"run_dir={tmp_path}"]))
    info = runs.read_run(tmp_path)
    assert info["status"] == "failed" and "out of memory" in info["error"]
    assert not (tmp_path / "model").exists()


def test_three_way_svm_run(tmp_path: Path, use_dataset) -> None:
    use_dataset(tiny_dataset(labels=("pro", "anti", "neutral"), n=180))
    metrics = train(compose_cfg("train", [*TINY, "model=tfidf_svm", f"run_dir={tmp_path}"]))
    # neutral counts in macro-F1 but only through its errors in F_avg.
    expected = (metrics["test/f1/pro"] + metrics["test/f1/anti"]) / 2
    assert metrics["test/f_avg"] == pytest.approx(expected)
    assert "test/f1/neutral" in metrics
    assert runs.read_config(tmp_path).model.classifier == "svm"


def test_evaluate_saved_model(tmp_path: Path, use_dataset) -> None:
    use_dataset(tiny_dataset())
    trained = train(compose_cfg("train", [*TINY, f"run_dir={tmp_path / 'run'}"]))
    eval_dir = tmp_path / "eval"
    model_path = f"model_path={tmp_path / 'run'}"
    cfg = compose_cfg("evaluate", [*TINY_DATA, model_path, f"run_dir={eval_dir}"])
    again = evaluate_saved(cfg)
    assert again["test/f_avg"] == pytest.approx(trained["test/f_avg"])
    assert runs.is_complete(eval_dir)
    assert (eval_dir / "predictions" / "test.jsonl").is_file()


def test_evaluate_refuses_a_dataset_with_other_labels(tmp_path: Path, use_dataset) -> None:
    use_dataset(tiny_dataset())
    train(compose_cfg("train", [*TINY, f"run_dir={tmp_path / 'run'}"]))
    use_dataset(tiny_dataset(labels=("pro", "anti", "neutral")))
    cfg = compose_cfg(
        "evaluate", [*TINY_DATA, f"model_path={tmp_path / 'run'}", f"run_dir={tmp_path / 'eval'}"]
    )
    with pytest.raises(StanceError, match=r"labels \['pro', 'anti', 'neutral'\] do not match"):
        evaluate_saved(cfg)
    assert runs.read_run(tmp_path / "eval")["status"] == "failed"


def test_script_builds_trains_and_then_reuses_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    overrides = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    argv = [
        *overrides,
        f"paths.processed_root={tmp_path / 'processed'}",
        f"paths.runs_root={tmp_path / 'runs'}",
        "evaluation.bootstrap=100",
    ]
    run_script_in_process("train", argv)
    (run_dir,) = (tmp_path / "runs" / "tiny" / "tfidf_logreg").iterdir()
    assert f"run directory: {run_dir}" in capsys.readouterr().out
    # the overrides name the folder (capped: a long one ends in a digest of all of them)
    assert run_dir.name.startswith("dataset.columns.doc_id-doc_id+")
    assert len(run_dir.name) <= runs.MAX_NAME
    assert "evaluation.bootstrap=100" in runs.read_run(run_dir)["overrides"]
    assert runs.is_complete(run_dir)
    assert (tmp_path / "processed" / "tiny" / "card.json").is_file()
    assert runs.read_run(run_dir)["dataset_fingerprint"] is not None
    assert runs.read_run(run_dir)["overrides"] == argv

    run_script_in_process("train", argv)
    assert "already holds a complete run" in capsys.readouterr().out


def test_script_user_error_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [*write_csv(tiny_dataset(), tmp_path / "tiny.csv"), "dataset.path=/nonexistent.csv"]
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("train", [*argv, f"paths.runs_root={tmp_path}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "/nonexistent.csv" in err and "Traceback" not in err
