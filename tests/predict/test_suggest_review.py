"""The review sheet: confident learning over grouped out-of-fold probabilities."""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

from fixtures import paragraphs, to_dataset
from stance.data import as_dataset_config
from stance.labelling.review import (
    REVIEW_SHEET,
    labelled_rows,
    out_of_fold,
    review_records,
    write_review,
)
from train_helpers import compose_cfg, write_csv

PLANTED = "planted"


def clean_dataset(docs: int = 40, plant: bool = False) -> DatasetDict:
    """``docs`` articles of 4 paragraphs, pro and anti in turn (row 0 pro), each with two clear
    cues among filler words and no label noise, split by article; with ``plant``, one plainly pro
    paragraph is labelled anti."""
    rows = paragraphs(
        docs * 4, 7, noise=0.0, cues=2, cycle=True, policies=["aid"], sources=["Wire"]
    )
    if plant:
        text = "we support and welcome and praise this aid, a benefit to applaud"
        rows[5] |= {"id": PLANTED, "text": text}  # an anti row's place, plainly pro
    full = to_dataset(rows, ("pro", "anti"))
    doc = np.array([i // 4 for i in range(len(rows))])  # paragraphs' documents: 4 rows each
    parts = {"train": doc % 5 < 3, "validation": doc % 5 == 3, "test": doc % 5 == 4}
    return DatasetDict({s: full.select(np.flatnonzero(m)) for s, m in parts.items()})


def settings(tmp_path: Path, data: DatasetDict) -> tuple:
    """The dataset config (dataset=csv_template pointed at ``data``) and the review model node."""
    cfg = compose_cfg("suggest", ["model_path=x", *write_csv(data, tmp_path / "labels.csv")])
    return as_dataset_config(cfg.dataset), cfg.review.model


def test_a_planted_wrong_label_is_on_the_review_sheet_and_a_clean_dataset_flags_little(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = clean_dataset(plant=True)
    dataset_cfg, model = settings(tmp_path, data)
    sheet = write_review(data, dataset_cfg, model, 5, 0, tmp_path / "planted")
    rows = list(csv.DictReader(sheet.open()))
    assert "review: " in capsys.readouterr().err
    # the dataset's own columns (given label in `label`), then the review's
    review = ["given_label", "suggested_label", "p_suggested", "p_given", "split"]
    assert list(rows[0]) == ["text", "label", "id", "doc_id", "target", "source", *review]
    planted = [r for r in rows if r["id"] == PLANTED]
    assert planted and planted[0]["label"] == "anti" and planted[0]["suggested_label"] == "pro"
    assert float(planted[0]["p_suggested"]) > 0.5 > float(planted[0]["p_given"])
    assert rows[0]["id"] == PLANTED  # most likely wrong first
    assert all(float(a["p_given"]) <= float(b["p_given"]) for a, b in pairwise(rows))
    clean = clean_dataset()
    sheet = write_review(clean, dataset_cfg, model, 5, 0, tmp_path / "clean")
    assert len(list(csv.DictReader(sheet.open()))) <= 2  # of 160 clear rows


def test_out_of_fold_never_scores_a_row_with_a_model_that_read_its_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = clean_dataset(docs=10)
    _, model = settings(tmp_path, data)
    from stance.models.sklearn_models import TfidfStanceModel

    fitted: list[set[str]] = []
    fit = TfidfStanceModel.fit

    def spy(self: TfidfStanceModel, train: Dataset, *args: object) -> TfidfStanceModel:
        fitted.append(set(train["doc_id"]))
        return fit(self, train, *args)

    scored: list[set[str]] = []
    proba = TfidfStanceModel.predict_proba

    def spy_proba(self: TfidfStanceModel, texts: list[str], targets: object = None) -> np.ndarray:
        scored.append({t for t in texts})
        return proba(self, texts, targets)

    monkeypatch.setattr(TfidfStanceModel, "fit", spy)
    monkeypatch.setattr(TfidfStanceModel, "predict_proba", spy_proba)
    _, judged, k = out_of_fold(
        Dataset.from_list([r for s in data.values() for r in s], features=data["train"].features),
        model,
        3,
        0,
    )
    assert k == 3 and len(fitted) == 3 and judged.all()
    rows = [r for s in data.values() for r in s]
    for docs, texts in zip(fitted, scored, strict=True):
        held = {r["doc_id"] for r in rows if r["text"] in texts}
        assert held and not held & docs


def test_too_little_data_for_a_grouped_k_fold_is_said_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = clean_dataset(docs=1)  # one article: no fold can leave it out and still train
    dataset_cfg, model = settings(tmp_path, clean_dataset(docs=10))
    assert write_review(data, dataset_cfg, model, 5, 0, tmp_path / "out") is None
    err = capsys.readouterr().err
    assert "no review sheet: 4 labelled rows in 1 documents" in err
    assert not (tmp_path / "out" / REVIEW_SHEET).exists()


def test_a_review_row_is_written_as_the_dataset_config_reads_it(tmp_path: Path) -> None:
    data = clean_dataset(docs=1).map(lambda _: {"date": "2024-03-05"})  # ISO, as the build stores
    overrides = ["dataset.columns.date=date", "dataset.date_format=%d/%m/%Y"]
    cfg = compose_cfg("suggest", ["model_path=x", *write_csv(data, tmp_path / "l.csv"), *overrides])
    rows, splits = labelled_rows(data)
    proba = np.tile([0.2, 0.8], (len(rows), 1))
    header, records = review_records(
        rows, splits, proba, np.array([0]), as_dataset_config(cfg.dataset)
    )
    assert header[:7] == ["text", "label", "id", "doc_id", "target", "source", "date"]
    assert records[0]["date"] == "05/03/2024" and records[0]["split"] == "train"
    assert (records[0]["label"], records[0]["suggested_label"], records[0]["p_given"]) == (
        "pro", "anti", 0.2,
    )  # fmt: skip


def test_the_sheet_keeps_the_most_likely_wrong_up_to_max_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = clean_dataset(plant=True)
    dataset_cfg, model = settings(tmp_path, data)
    full = list(csv.DictReader(write_review(data, dataset_cfg, model, 5, 0, tmp_path / "a").open()))
    capsys.readouterr()
    sheet = write_review(data, dataset_cfg, model, 5, 0, tmp_path / "b", max_rows=1)
    (row,) = list(csv.DictReader(sheet.open()))
    assert row == full[0] and row["id"] == PLANTED
    assert "the 1 most likely wrong first (review.max_rows=1)" in capsys.readouterr().err
