"""A target the model never saw is flagged (``unseen_target``), never silently ignored."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from fixtures import tiny_dataset
from stance.config_schemas import ServeConfig
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict import label_rows, load_model
from stance.serve.service import create_app
from train_helpers import run_script_in_process

TEXTS = ["we support and applaud it", "we oppose and condemn it"]


@pytest.fixture(scope="module")
def policy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder trained on the policies tariffs, sanctions and aid (one shared model)."""
    folder = tmp_path_factory.mktemp("policy_model")
    TfidfStanceModel(target_mode="per_target").fit(tiny_dataset()["train"]).save(folder)
    return folder


def test_the_predictor_knows_its_policies_and_names_the_unseen(policy_run: Path) -> None:
    predictor = load_model(policy_run)
    assert predictor.seen_targets == ["aid", "sanctions", "tariffs"]
    assert predictor.unseen_targets(["tariffs", "tarifs", "climate", "tarifs"]) == [
        "tarifs",
        "climate",
    ]
    assert predictor.closest_target("tarifs") == "tariffs"
    assert predictor.closest_target("Sanctions") == "sanctions"
    assert predictor.closest_target("climate") is None


def test_a_misspelt_target_is_labelled_and_flagged(policy_run: Path) -> None:
    predictor = load_model(policy_run)
    given = [(TEXTS[0], "tariffs"), (TEXTS[0], "tarifs"), (TEXTS[1], "aid")]
    rows = [{"id": f"r{i}", "text": t, "target": g} for i, (t, g) in enumerate(given)]
    out = label_rows(predictor, rows)
    assert [r["unseen_target"] for r in out] == [False, True, False]
    assert all(r["label"] in predictor.classes_ for r in out)  # still labelled
    # the probabilities are the model's own for that target: nothing is changed behind its back
    own = predictor.predict_proba([TEXTS[0]], ["tarifs"])[0]
    assert np.allclose(list(out[1]["proba"].values()), own, atol=1e-6)


def test_a_shared_model_labels_rows_without_a_target_and_flags_them(tmp_path: Path) -> None:
    TfidfStanceModel(target_mode="features").fit(tiny_dataset()["train"]).save(tmp_path)
    predictor = load_model(tmp_path)  # one global model: it reads targets but needs none
    assert predictor.uses_target and not predictor.requires_target
    out = label_rows(predictor, [{"text": TEXTS[0], "target": "aid"}, {"text": TEXTS[0]}])
    assert [r["unseen_target"] for r in out] == [False, True]


def test_text_only_models_flag_nothing(run_dir: Path) -> None:
    out = label_rows(load_model(run_dir), [{"id": "a", "text": TEXTS[0], "target": "anything"}])
    assert out[0]["unseen_target"] is False and load_model(run_dir).seen_targets is None


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_predict_py_flags_unseen_targets_and_warns_once(
    policy_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture, fmt: str
) -> None:
    table = tmp_path / "in.jsonl"
    lines = [{"id": f"p{i}", "text": TEXTS[i % 2], "target": g}
             for i, g in enumerate(["tariffs", "tarifs", "tarifs", "aid"])]  # fmt: skip
    table.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / f"labels.{fmt}"
    run_script_in_process("predict", [f"model={policy_run}", f"input={table}", f"output={out}"])
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning: targets")]
    assert len(warnings) == 1
    assert "'tarifs' (2 paragraphs, did you mean 'tariffs'?)" in warnings[0]
    if fmt == "jsonl":
        flags = [json.loads(line)["unseen_target"] for line in out.read_text().splitlines()]
    elif fmt == "csv":
        flags = [row["unseen_target"] == "True" for row in csv.DictReader(out.open())]
    else:
        flags = pq.read_table(out).column("unseen_target").to_pylist()
    assert flags == [False, True, True, False]


def test_the_service_flags_unseen_targets(policy_run: Path) -> None:
    settings = ServeConfig(model_path=str(policy_run))
    api = TestClient(create_app(load_model(policy_run), settings))
    assert api.get("/model").json()["seen_targets"] == ["aid", "sanctions", "tariffs"]
    body = api.post("/predict", json={"texts": TEXTS, "targets": ["tariffs", "tarifs"]}).json()
    assert [p["unseen_target"] for p in body["predictions"]] == [False, True]
    article = "We support it.\n\nWe oppose it."
    body = api.post("/articles", json={"text": article, "target": "sanctons"}).json()
    assert [p["unseen_target"] for p in body["paragraphs"]] == [True, True]
