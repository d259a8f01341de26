"""Inference: load_model, paragraph and document labels, the predict script on one article."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from fixtures import tiny_dataset
from stance import load_model, runs
from stance.cli import model_path_argv
from stance.config_schemas import DocumentConfig
from stance.data import split_paragraphs
from stance.errors import StanceError
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict import DOCUMENT_RULE, document_stance, label_rows
from train_helpers import run_script_in_process

ARTICLE = """Senators spar over tariffs

The senator said she would support and applaud the tariffs, which she expects to benefit voters.

Critics oppose the plan and condemn it; they say it will harm farmers in Ohio.

The vote is expected on Tuesday.
"""


def test_document_stance_by_hand() -> None:
    classes = ["pro", "anti", "neutral"]
    proba = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    label, mean, used = document_stance(proba, classes, "neutral")
    # The neutral third paragraph is left out: mean of rows 0 and 1 = [0.55, 0.4, 0.05].
    assert (label, used) == ("pro", 2)
    assert np.allclose(mean, [0.55, 0.4, 0.05])
    all_neutral = np.array([[0.1, 0.3, 0.6], [0.1, 0.2, 0.7]])
    label, _, used = document_stance(all_neutral, classes, "neutral")
    assert (label, used) == ("no clear stance", 0)  # reporting only: no paragraph bears a stance


def test_a_document_abstains_when_few_paragraphs_or_a_small_margin_decide() -> None:
    classes = ["pro", "anti", "neutral"]
    one = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.2, 0.1, 0.7]])  # a lone pro paragraph
    assert document_stance(one, classes, "neutral")[0] == "no clear stance"
    assert document_stance(one, classes, "neutral", DocumentConfig(min_paragraphs=1))[0] == "pro"
    split = np.array([[0.55, 0.45, 0.0], [0.4, 0.6, 0.0]])  # means 0.475 vs 0.525
    assert document_stance(split, classes, "neutral")[0] == "no clear stance"
    assert document_stance(split, classes, "neutral", DocumentConfig(min_margin=0.01))[0] == "anti"
    binary = np.array([[0.9, 0.1], [0.8, 0.2]])  # no no-stance label: every paragraph counts
    assert document_stance(binary, ["pro", "anti"], None) == ("pro", pytest.approx([0.85, 0.15]), 2)


def test_predictor_labels_and_probabilities(run_dir: Path) -> None:
    predictor = load_model(run_dir)
    texts = ["we applaud and support it", "we condemn and oppose it"]
    assert list(predictor.predict(texts)) == ["pro", "anti"]
    proba = predictor.predict_proba(texts, batch_size=1)  # batched: the same either way
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1)
    assert np.allclose(proba, predictor.predict_proba(texts))
    assert predictor.classes_ == ["pro", "anti"]
    with pytest.raises(StanceError, match="no texts"):
        predictor.predict([])
    with pytest.raises(StanceError, match=r"one string, which would be read as 9 characters"):
        predictor.predict("we oppose")


def test_rows_get_document_rows_per_doc_id(run_dir: Path) -> None:
    rows = [
        {"id": "a1", "doc_id": "A", "text": "we support and applaud this"},
        {"id": "a2", "doc_id": "A", "text": "they praise it and welcome it"},
        {"id": "b1", "doc_id": "B", "text": "we oppose and condemn it"},
        {"id": "b2", "doc_id": "B", "text": "they reject it and denounce it"},
        {"id": "c1", "doc_id": "C", "text": "we oppose and condemn it"},  # one paragraph alone
    ]
    out = label_rows(load_model(run_dir), rows)
    docs = {r["doc_id"]: r for r in out if r["level"] == "document"}
    assert [r["level"] for r in out].count("paragraph") == 5
    assert docs["A"]["label"] == "pro" and docs["B"]["label"] == "anti"
    assert docs["C"]["label"] == "no clear stance"
    assert docs["A"]["rule"] == DOCUMENT_RULE.format(min_paragraphs=2, min_margin=0.1)
    assert docs["A"]["paragraphs"] == 2
    # each document's paragraph rows come right before its document row (units, streamable)
    assert [r["level"] for r in out][:3] == ["paragraph", "paragraph", "document"]


def test_target_aware_model_needs_a_target_per_row(tmp_path: Path) -> None:
    # classifiers of the targets' own need the target (a shared model alone would not)
    model = TfidfStanceModel(target_mode="per_target", min_target_examples=10)
    model.fit(tiny_dataset()["train"]).save(tmp_path)
    predictor = load_model(tmp_path)
    rows = [{"text": "we support it", "target": "aid"}, {"text": "we oppose it"}]
    with pytest.raises(StanceError, match=r"input row 2: .* needs a target for every text"):
        label_rows(predictor, rows)
    out = label_rows(predictor, rows, default_target="tariffs")
    assert [r["target"] for r in out] == ["aid", "tariffs"]


def test_model_path_errors(tmp_path: Path) -> None:
    with pytest.raises(StanceError, match="no such file"):
        load_model(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StanceError, match="not a model folder nor a run directory"):
        load_model(tmp_path)
    runs.end_run(tmp_path, runs.start_run(tmp_path, {}), "failed", error="killed")
    with pytest.raises(StanceError, match=r"run\.json says 'failed'"):
        load_model(tmp_path)


def test_model_equals_path_is_passed_as_model_path() -> None:
    assert model_path_argv(["p.py", "model=runs/x", "input=a.txt"]) == [
        "p.py",
        "model_path=runs/x",
        "input=a.txt",
    ]


def test_script_labels_an_article_paragraph_by_paragraph(run_dir: Path, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    out = tmp_path / "labels.csv"
    run_script_in_process("predict", [f"model={run_dir}", f"input={article}", f"output={out}"])
    rows = list(csv.DictReader(out.open()))
    paragraphs = [r for r in rows if r["level"] == "paragraph"]
    assert [r["text"] for r in paragraphs] == split_paragraphs(ARTICLE)
    assert len(paragraphs) == 4
    assert paragraphs[1]["label"] == "pro" and paragraphs[2]["label"] == "anti"
    (document,) = [r for r in rows if r["level"] == "document"]
    settings = json.loads(out.with_name(out.name + ".stance.json").read_text())
    assert settings["rule"] == DOCUMENT_RULE.format(
        min_paragraphs=2, min_margin=0.1
    )  # DocumentConfig's defaults, stated once: not on every document row
    assert "rule" not in document
    assert float(document["proba_pro"]) + float(document["proba_anti"]) == pytest.approx(1)


def test_script_reads_stdin_and_reports_bad_input(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "we oppose it"}\n'))
    run_script_in_process("predict", [f"model={run_dir}", "input_format=jsonl"])
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["label"] == "anti" and set(row["proba"]) == {"pro", "anti"}

    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("predict", [f"model={tmp_path}", "input=-"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_the_main_jobs_3_way_model_leaves_captions_of_a_scraped_article_neutral(
    tmp_path: Path,
) -> None:
    from stance.experiment.training import train
    from train_helpers import CONFIGS, compose_cfg

    run = tmp_path / "run"
    paths = [f"paths.processed_root={tmp_path / 'processed'}", "evaluation.bootstrap=0"]
    train(compose_cfg("train", [*paths, f"run_dir={run}"]))  # the default: 3-way demo corpus
    predictor = load_model(run)
    assert predictor.classes_ == ["anti", "neutral", "pro"] and predictor.neutral_label == "neutral"
    articles = CONFIGS.parent / "data" / "raw" / "articles"
    rows = [
        {"doc_id": path.stem, "text": text}
        for path in sorted(articles.glob("*.txt"))
        for text in split_paragraphs(path.read_text())
    ]
    out = label_rows(predictor, rows)
    captions = [r for r in out if r["level"] == "paragraph" and r["text"].startswith("Photo:")]
    assert len(captions) == 2 and all(r["label"] == "neutral" for r in captions)
    documents = [r for r in out if r["level"] == "document"]
    assert all(r["paragraphs_used"] < r["paragraphs"] for r in documents)  # neutral ones left out
