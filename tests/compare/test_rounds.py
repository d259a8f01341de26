"""compare names labelling rounds by name and date, and shows labels vs score across them."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import DatasetDict
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from fixtures import tiny_dataset
from stance import runs
from stance.compare import CompareConfig, compare, register_schema
from stance.compare.cells import fmt
from stance.compare.records import Config, Run, Section, group_runs
from stance.compare.report import write_report
from stance.compare.rounds import name_sections
from stance.data import overlap
from stance.experiment.training import train
from train_helpers import CONFIGS, compose_cfg

TINY = ["~dataset", "+dataset={name: tiny}", "evaluation.bootstrap=0", "model.char_ngrams=null"]


def settings(tmp_path: Path) -> CompareConfig:
    """The real compare.yaml over ``tmp_path/runs``, as its schema object."""
    register_schema()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose("compare", [f"out_dir={tmp_path / 'cmp'}", f"runs=[{tmp_path / 'runs'}]"])
    return OmegaConf.to_object(cfg)


def train_round(
    monkeypatch: pytest.MonkeyPatch, run_dir: Path, data: DatasetDict, index: int, fp: str
) -> None:
    """Train the tiny model into ``run_dir`` on ``data``, carded as labelling round ``index``."""
    card = {
        "name": "tiny",
        "fingerprint": fp,
        "neutral_label": None,
        "built_at": f"2026-12-0{index + 1}T09:30:00+00:00",
        "round": {"name": f"round {index}", "index": index, "files": ["a.csv"]},
    }
    monkeypatch.setattr("stance.experiment.training.prepare_dataset", lambda *_: (data, card))
    train(compose_cfg("train", [*TINY, f"run_dir={run_dir}"]))


def test_rounds_are_named_by_date_and_labels_vs_score_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "runs" / "tiny" / "tfidf_logreg" / "default"
    train_round(monkeypatch, run_dir, tiny_dataset(n=90), 0, "f0" * 16)
    train_round(monkeypatch, run_dir, tiny_dataset(n=150), 1, "f1" * 16)  # kept: goes next to it
    later = run_dir.with_name("default.round-1")
    assert runs.read_run(run_dir)["dataset_fingerprint"] == "f0" * 16

    cfg = settings(tmp_path)
    sections = compare(cfg)
    assert [st.section.title for st in sections] == [
        "round 0 (built 2026-12-01)",
        "round 1 (built 2026-12-02)",
    ]
    paths = write_report(sections, cfg)
    md, page = paths["md"].read_text(), paths["html"].read_text()
    assert "## tiny — round 0 (built 2026-12-01), 30 test examples" in md
    assert "## tiny — round 1 (built 2026-12-02), 50 test examples" in md
    assert "f0f0f0" not in md and "f1f1f1" not in md  # rounds by name and date, not by hash

    trained = [len(overlap.read_record(d / "model")["rows"]["train"]) for d in (run_dir, later)]
    scores = [fmt(runs.read_metrics(d)["test/f_avg"], 100.0) for d in (run_dir, later)]
    said = f"round 0 → round 1: +{trained[1] - trained[0]} labels, score {scores[0]} → {scores[1]}"
    assert trained == [90, 150]
    assert "## Labels vs score across rounds: tiny, model=tfidf_logreg" in md and said in md
    assert f"| round 1 | 2026-12-02 09:30 | 150 | {scores[1]} |" in md
    assert "Labels vs score across rounds" in page and said in page


def run(name: str, fp: str, built_at: str | None, cv: tuple | None = None) -> Run:
    """A complete run record as compare reads it (``round`` None: recorded before rounds)."""
    index = int(name[-1]) if name else 0
    recorded = {"name": name, "index": index} if name else None
    return Run(Path(f"/r/{fp}-{built_at}"), "complete", "mine", fp, {}, cv=cv, fold=0,
               round=recorded, built_at=built_at)  # fmt: skip


def section(r: Run, digest: str | None = "t1") -> Section:
    return Section(r.dataset, r.fingerprint, digest, [Config({}, [r])])


def test_titles_widen_only_where_two_sections_would_read_the_same() -> None:
    sections = [
        section(run("round 1", "aaaaaaaa11", "2026-12-07T10:31:00+00:00")),
        section(run("round 1", "bbbbbbbb22", "2026-12-07T16:05:00+00:00")),  # rebuilt that day
        section(run("round 0", "cccccccc33", "2026-12-01T08:00:00+00:00")),
        section(run("round 0", "cccccccc33", "2026-12-01T08:00:00+00:00"), digest="t2"),
        section(run("", "dddddddd44", None)),  # recorded before rounds: keeps its hash title
    ]
    sections[4].configs[0].runs[0].round = None
    name_sections(sections)
    assert [s.title for s in sections] == [
        "round 1 (built 2026-12-07 10:31)",
        "round 1 (built 2026-12-07 16:05)",
        "round 0 (built 2026-12-01 08:00), dataset cccccccc, test set t1",
        "round 0 (built 2026-12-01 08:00), dataset cccccccc, test set t2",
        None,
    ]


def test_cross_validation_folds_of_two_rounds_are_not_pooled() -> None:
    folds = [
        run("round 0", f"fold{k}-r0", "2026-12-01T08:00:00+00:00", cv=(5, 0)) for k in range(2)
    ] + [run("round 1", f"fold{k}-r1", "2026-12-07T08:00:00+00:00", cv=(5, 0)) for k in range(2)]
    sections, _ = group_runs(folds, ignore=[])
    name_sections(sections)
    assert sorted(len(s.configs[0].runs) for s in sections) == [2, 2]
    assert sorted(s.title for s in sections) == [
        "round 0 (built 2026-12-01)",
        "round 1 (built 2026-12-07)",
    ]
