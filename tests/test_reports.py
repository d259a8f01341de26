"""report.html and comparison.html: self-contained pages with what a person needs (DOM checks)."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

from fixtures import tiny_dataset
from stance import runs
from stance.experiment.training import train
from train_helpers import compose_cfg


class Page(HTMLParser):
    """The headings, images, table rows and any external references of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[bytes] = []
        self.external: list[str] = []
        self.rows = 0
        self._in_heading = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_heading = tag in ("h1", "h2", "h3")
        self.rows += tag == "tr"
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value.startswith("data:image/png;base64,"):
                self.images.append(base64.b64decode(value.split(",", 1)[1]))
            elif value:
                self.external.append(value)
        if tag in ("script", "link"):
            self.external.append(tag)

    def handle_data(self, data):
        if self._in_heading and data.strip():
            self.headings.append(data.strip())

    def handle_endtag(self, tag):
        self._in_heading = False


def test_every_run_writes_a_self_contained_report(tmp_path: Path, monkeypatch) -> None:
    data = tiny_dataset(labels=("pro", "anti", "neutral"))
    monkeypatch.setattr(
        "stance.experiment.training.prepare_dataset",
        lambda cfg, root: (data, {"fingerprint": "fp", "neutral_label": "neutral"}),
    )
    run_dir = tmp_path / "run"
    cfg = ["~dataset", "+dataset={name: tiny}", "model.char_ngrams=null", f"run_dir={run_dir}"]
    train(compose_cfg("train", cfg))
    page = Page((run_dir / "report.html").read_text())
    assert not page.external  # opens offline: no script, stylesheet or image from elsewhere
    assert any(h.startswith("validation: F_avg") for h in page.headings)
    assert any(h.startswith("test: F_avg") and "interval" in h for h in page.headings)
    assert {"by target", "by source"} <= set(page.headings)
    # per split: confusion matrix, reliability diagram, precision-recall curves
    assert len(page.images) == 6 and all(i.startswith(b"\x89PNG") for i in page.images)
    mistakes = [r for r in runs.read_predictions(run_dir, "test") if r["gold"] != r["pred"]]
    assert any(
        h.startswith(f"the {min(25, len(mistakes))} most confident mistakes") for h in page.headings
    )
    worst = max(mistakes, key=lambda r: max(r["proba"].values()))
    assert worst["text"] in (run_dir / "report.html").read_text()


def test_a_stalled_collapsed_run_says_so_everywhere(tmp_path: Path, monkeypatch, capsys) -> None:
    import json

    import numpy as np

    from stance.models.sklearn_models import TfidfStanceModel

    data = tiny_dataset(labels=("pro", "anti", "neutral"))
    monkeypatch.setattr("stance.experiment.training.prepare_dataset", lambda cfg, root: (data, {}))
    # a fit that logged a loss stuck at ln 3, and predictions that are all 'pro'
    flat = {"loss_first": 1.096, "loss_last": 1.093, "steps": 14, "chance_loss": float(np.log(3))}
    monkeypatch.setattr(TfidfStanceModel, "fit_log_", flat, raising=False)
    monkeypatch.setattr(
        "stance.experiment.evaluation.predict_split",
        lambda model, split, **_: np.tile([0.8, 0.1, 0.1], (len(split), 1)),
    )
    run_dir = tmp_path / "run"
    cfg = ["~dataset", "+dataset={name: tiny}", "model.char_ngrams=null", f"run_dir={run_dir}"]
    metrics = train(compose_cfg("train", cfg))

    assert metrics["health/stalled"] == 1.0 and metrics["health/collapsed_test"] == 1.0
    assert runs.read_metrics(run_dir)["train/loss_last"] == 1.093
    stall = "training loss did not fall (first 1.096, last 1.093, chance 1.099, 14 steps)"
    collapse = "predictions collapsed to one class (all 'pro' on test)"
    warnings = json.loads((run_dir / runs.RUN_FILE).read_text())["warnings"]
    assert warnings[0].startswith(stall) and collapse in warnings
    printed = capsys.readouterr().out
    assert f"WARNING: {stall}" in printed and f"WARNING: {collapse}" in printed
    page = (run_dir / "report.html").read_text()
    assert '<div class="warn"><h2>Warnings</h2>' in page
    assert page.index("Warnings") < page.index("validation: F_avg")  # above the scores
    assert stall in page and "all &#x27;pro&#x27; on test" in page


def test_a_healthy_run_has_no_warnings(tmp_path: Path, monkeypatch, capsys) -> None:
    data = tiny_dataset()
    monkeypatch.setattr("stance.experiment.training.prepare_dataset", lambda cfg, root: (data, {}))
    run_dir = tmp_path / "run"
    cfg = ["~dataset", "+dataset={name: tiny}", "model.char_ngrams=null", f"run_dir={run_dir}"]
    metrics = train(compose_cfg("train", cfg))
    assert metrics["health/collapsed_test"] == 0.0 and "health/stalled" not in metrics
    assert runs.read_run(run_dir)["warnings"] == []
    assert "WARNING" not in capsys.readouterr().out
    assert "Warnings" not in (run_dir / "report.html").read_text()


def test_a_small_test_split_without_a_label_or_policy_says_so_everywhere(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """The reproduction: test was 16 rows, validation lacked one of the three policies."""
    data = tiny_dataset(labels=("pro", "anti", "neutral"))
    test = data["test"]
    keep = [i for i, t in enumerate(test["target"]) if t != test["target"][0]][:16]
    data["test"] = test.select(keep)  # 16 rows, one policy gone
    gone = test["target"][0]
    monkeypatch.setattr("stance.experiment.training.prepare_dataset", lambda cfg, root: (data, {}))
    run_dir = tmp_path / "run"
    cfg = ["~dataset", "+dataset={name: tiny}", "model.char_ngrams=null", f"run_dir={run_dir}"]
    metrics = train(compose_cfg("train", cfg))

    assert metrics["data/rows/test"] == 16.0 and metrics[f"data/missing_target/test/{gone}"] == 1
    small = "the test split has only 16 rows: its scores have wide intervals"
    policy = f"the test split has no row of policy {gone!r}"
    (warning,) = [w for w in runs.read_run(run_dir)["warnings"] if w.startswith(small)]
    assert "dataset.split.strategy=kfold" in warning and "compare.py" in warning
    assert any(w.startswith(policy) for w in runs.read_run(run_dir)["warnings"])
    printed = capsys.readouterr().out
    assert f"WARNING: {small}" in printed
    page = (run_dir / "report.html").read_text()
    assert '<div class="warn"><h2>Warnings</h2>' in page and small in page
