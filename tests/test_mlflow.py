"""logger=mlflow against a real local MLflow store (a SQLite file in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from fixtures import tiny_dataset
from stance import runs
from stance.experiment.training import train
from train_helpers import compose_cfg


def test_train_logs_params_metrics_and_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tiny_dataset()
    monkeypatch.setattr(
        "stance.experiment.training.prepare_dataset",
        lambda cfg, root: (data, {"fingerprint": "fp"}),
    )
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    run_dir = tmp_path / "run"
    cfg = compose_cfg(
        "train",
        [
            "~dataset",
            "+dataset={name: tiny}",
            "logger=mlflow",
            f"logger.tracking_uri={uri}",
            "logger.experiment=stance-test",
            f"run_dir={run_dir}",
            "evaluation.bootstrap=50",
            "model.char_ngrams=null",
        ],
    )
    metrics = train(cfg)

    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("stance-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == runs.read_run(run_dir)["tracker_run_id"]
    assert run.data.params["model.name"] == "tfidf_logreg"
    assert run.data.params["model.C"] == str(cfg.model.C)
    assert run.data.metrics["test/f_avg"] == pytest.approx(metrics["test/f_avg"])
    assert run.data.metrics["validation/by_target/aid/n"] == metrics["validation/by_target/aid/n"]
    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "config.yaml", "predictions", "model"} <= top
    model_files = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert {"model/model.skops", "model/stance_model.json", "model/README.md"} <= model_files
