"""`dataset.columns.extra`: a column of the input kept through the build to predictions/*.jsonl,
and `evaluation.group_by` slicing metrics.json and report.html by it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data_helpers import user_dataset

from fixtures import export_rows, write
from stance.data.build import ensure_dataset
from stance.errors import StanceError
from stance.experiment.evaluation import evaluate
from train_helpers import RuleModel


class FirstWordModel(RuleModel):
    """``pro`` when the text's first letter is before "m", else ``anti``: some right, some wrong."""

    uses_target = False
    family = "first-word"

    def __init__(self) -> None:
        self.classes_ = ["anti", "neutral", "pro"]

    def predict_proba(self, texts, targets=None, **options) -> np.ndarray:
        return np.eye(3)[[2 if t[0].lower() < "m" else 0 for t in texts]]


def shot_corpus(tmp_path: Path) -> Path:
    rows = export_rows(n_docs=80, per_doc=2)
    for row in rows:
        row["shot"] = "zero" if int(row["doc_id"][1:]) % 2 else "few"
    return write(tmp_path / "in.csv", rows)


def test_an_extra_column_reaches_the_predictions_and_the_report(tmp_path: Path) -> None:
    cfg = user_dataset(shot_corpus(tmp_path), "dataset.columns.extra=[shot]", labels=None)
    data = ensure_dataset(cfg, tmp_path / "processed")
    assert "shot" in data["test"].column_names
    run = tmp_path / "run"
    run.mkdir()
    metrics = evaluate(
        FirstWordModel(), data, ["test"], run, n_bootstrap=0, neutral="neutral", group_by=["shot"]
    )
    lines = (run / "predictions" / "test.jsonl").read_text().splitlines()
    predicted = [json.loads(line) for line in lines]
    assert {p["shot"] for p in predicted} == {"zero", "few"}
    zero = sum(p["shot"] == "zero" for p in predicted)
    assert metrics["test/by_shot/zero/n"] == zero
    right = sum(p["gold"] == p["pred"] for p in predicted if p["shot"] == "zero")
    assert metrics["test/by_shot/zero/accuracy"] == pytest.approx(right / zero)
    page = (run / "report.html").read_text()
    assert "<h3>by shot</h3>" in page and "<td>zero</td>" in page


def test_group_by_a_column_not_kept_says_how_to_keep_it(tmp_path: Path) -> None:
    data = ensure_dataset(user_dataset(shot_corpus(tmp_path), labels=None), tmp_path / "p")
    with pytest.raises(StanceError, match=r"dataset.columns.extra=\[shot\]"):
        evaluate(FirstWordModel(), data, ["test"], n_bootstrap=0, group_by=["shot"])


@pytest.mark.parametrize("extra", ["[label]", "[shot,shot]"])
def test_an_extra_column_cannot_shadow_a_field(tmp_path: Path, extra: str) -> None:
    cfg = user_dataset(shot_corpus(tmp_path), f"dataset.columns.extra={extra}", labels=None)
    with pytest.raises(StanceError, match=r"columns\.extra"):
        ensure_dataset(cfg, tmp_path / "processed")
