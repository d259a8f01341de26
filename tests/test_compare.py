"""compare on synthetic run records whose differences are known by construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from fixtures import flip, gold_labels
from stance import runs as run_files
from stance.compare import CompareConfig, compare, register_schema
from stance.compare.records import group_runs, load_run, section_predictions
from stance.compare.report import write_report
from stance.compare.table import _batch_metric
from stance.errors import StanceError
from stance.scoring import metrics as metrics_module
from stance.scoring import stats

ROOT = Path(__file__).resolve().parents[1]
N = 400
GOLD = gold_labels(N, 7)
LABELS = ["anti", "pro"]  # the label set each run.json records (binary: no no-stance label)


def write_run(
    folder: Path,
    overrides: list[str],
    pred: np.ndarray | None = None,
    status: str = "complete",
    fingerprint: str = "fp-demo",
    gold: np.ndarray = GOLD,
    config: str | None = None,
) -> Path:
    """A run folder laid out as docs/architecture.md describes (run.json written last)."""
    (folder / "predictions").mkdir(parents=True)
    seed = next((int(o.split("=")[1]) for o in overrides if o.startswith("seed=")), 0)
    if pred is not None:
        lines = [
            json.dumps({"id": f"x{i}", "text": "t", "gold": g, "pred": p, "proba": {}})
            for i, (g, p) in enumerate(zip(gold, pred, strict=True))
        ]
        (folder / "predictions" / "test.jsonl").write_text("\n".join(lines) + "\n")
        metric = metrics_module.batch_metric("f_avg", LABELS, None)
        index = {label: i for i, label in enumerate(LABELS)}
        score = metric(np.array([index[g] for g in gold]), np.array([index[p] for p in pred]))
        metrics = {"test/f_avg": float(score), "test/f1_macro": float(score)}
        (folder / "metrics.json").write_text(json.dumps(metrics))
    record = {
        "status": status,
        "dataset": "demo",
        "dataset_fingerprint": fingerprint,
        "model": "m",
        "labels": LABELS,
        "neutral_label": None,
        "seed": seed,
        "overrides": overrides,
    }
    if config is not None:
        (folder / "config.yaml").write_text(config)
    (folder / "run.json").write_text(json.dumps(record))
    return folder


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """Three configs x three seeds: good (10% errors), bad (30%), and a copy of good."""
    root = tmp_path / "multirun"
    for seed in (1, 2, 3):
        good = flip(GOLD, 0.10, seed)
        write_run(root / f"good_{seed}", ["model=good", f"seed={seed}"], good)
        write_run(root / f"bad_{seed}", ["model=bad", f"seed={seed}"], flip(GOLD, 0.30, seed))
        write_run(root / f"same_{seed}", ["model=same", f"seed={seed}"], good)
    return root


def settings(tmp_path: Path, *overrides: str) -> CompareConfig:
    """The real compare.yaml, composed with overrides, as its schema object."""
    register_schema()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose("compare", overrides=[f"out_dir={tmp_path / 'cmp'}", *overrides])
    return OmegaConf.to_object(cfg)


def rows(table) -> dict[str, dict]:
    """Table rows keyed by config name."""
    return {r["config"]: r for r in table.to_dict("records")}


@pytest.mark.parametrize("test", ["paired_bootstrap", "mcnemar"])
def test_real_difference_is_significant_identical_is_not(sweep, tmp_path, test):
    cfg = settings(tmp_path, f"runs=[{sweep}]", f"test={test}", "metrics=[test/f_avg]")
    [section] = compare(cfg)
    by_config = rows(section.table)
    assert set(by_config) == {"model=good", "model=bad", "model=same"}
    assert all(r["seeds"] == 3 for r in by_config.values())
    assert by_config["model=bad"]["p_vs_best"] < 0.01
    assert by_config["model=bad"]["significant"]
    # "same" has the best config's predictions: whichever of the two is best, the other has p = 1.
    other = "model=same" if np.isnan(by_config["model=good"]["p_vs_best"]) else "model=good"
    assert by_config[other]["p_vs_best"] == 1.0
    assert not by_config[other]["significant"]
    assert section.table["config"].iloc[-1] == "model=bad"  # sorted by the headline, best first


def test_interval_and_mean_match_the_records(sweep, tmp_path):
    cfg = settings(tmp_path, f"runs=[{sweep}]")
    [section] = compare(cfg)
    good = rows(section.table)["model=good"]
    seeds = [json.loads((sweep / f"good_{s}" / "metrics.json").read_text()) for s in (1, 2, 3)]
    values = [m["test/f_avg"] for m in seeds]
    assert good["test/f_avg"] == pytest.approx(np.mean(values))
    assert good["test/f_avg std"] == pytest.approx(np.std(values, ddof=1))
    assert good["test/f_avg ci_low"] < np.mean(values) < good["test/f_avg ci_high"]
    assert good["test/f_avg ci_high"] - good["test/f_avg ci_low"] < 0.1  # 400 examples, ~0.9


def test_datasets_and_test_sets_are_never_pooled(tmp_path):
    root = tmp_path / "runs"
    other_gold = np.where(GOLD == "pro", "anti", "pro")  # same ids, other gold labels
    write_run(root / "a1", ["model=good", "seed=1"], flip(GOLD, 0.1, 1))
    write_run(root / "b1", ["model=good", "seed=2"], flip(GOLD, 0.1, 2), fingerprint="fp-other")
    write_run(root / "c1", ["model=good", "seed=3"], flip(other_gold, 0.1, 3), gold=other_gold)
    sections = compare(settings(tmp_path, f"runs=[{root}]"))
    assert len(sections) == 3
    assert [len(s.table) for s in sections] == [1, 1, 1]
    assert all(s.table["seeds"].tolist() == [1] for s in sections)


def test_incomplete_runs_are_listed_not_skipped(sweep, tmp_path):
    write_run(sweep / "bad_4", ["model=bad", "seed=4"], status="running")
    write_run(sweep / "new_1", ["model=new", "seed=1"], status="failed")
    crashed = sweep / "new_2" / ".hydra"
    crashed.mkdir(parents=True)
    (crashed / "overrides.yaml").write_text("- model=new\n- seed=2\n")
    (crashed / "config.yaml").write_text("dataset:\n  name: demo\nseed: 2\n")
    cfg = settings(tmp_path, f"runs=[{sweep}]")
    [section] = compare(cfg)
    by_config = rows(section.table)
    assert by_config["model=bad"]["seeds"] == 3
    assert by_config["model=bad"]["not_complete"] == "1 running"
    assert by_config["model=new"]["seeds"] == 0
    assert by_config["model=new"]["not_complete"] == "1 failed, 1 no record"
    paths = write_report([section], cfg)
    text = paths["md"].read_text()
    assert f"`{sweep / 'new_2'}`: no record" in text
    assert f"`{sweep / 'bad_4'}`: running" in text


def test_config_names_show_what_runs_used_when_not_overridden(tmp_path):
    root = tmp_path / "runs"
    good = flip(GOLD, 0.1, 1)
    write_run(root / "a", ["model=good", "seed=1", "dataset=demo"], good)
    # Same test set, the model chosen by an experiment file instead of an override.
    ensemble = "model:\n  name: ensemble\n  C: 2\n"
    write_run(root / "b", ["+experiment=mix", "seed=1"], good, config=ensemble)
    [section] = compare(settings(tmp_path, f"runs=[{root}]"))
    assert set(section.table["config"]) == {
        "model=good",  # no experiment: left out of the name (the table's column says "(default)")
        "experiment=mix model=ensemble",
    }
    # The same shown values from different overrides stay two rows, told apart by the overrides.
    write_run(root / "c", ["+experiment=mix", "model=ensemble", "seed=1"], good)
    [section] = compare(settings(tmp_path, f"runs=[{root}]"))
    assert len(section.table) == 3
    assert "experiment=mix model=ensemble [experiment=mix model=ensemble]" in set(
        section.table["config"]
    )


def test_where_filters_and_report_files(sweep, tmp_path):
    cfg = settings(tmp_path, f"runs=[{sweep}]", "+where.model=[good,bad]")
    sections = compare(cfg)
    assert set(sections[0].table["config"]) == {"model=good", "model=bad"}
    paths = write_report(sections, cfg)
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = paths["csv"].read_text().splitlines()
    assert len(csv) == 3
    assert csv[0].startswith("section.dataset,section.fingerprint,section.test_set,")


def test_f_avg_by_hand():
    labels = ["anti", "neutral", "pro"]
    gold = np.array([2, 2, 0, 1])  # pro pro anti neutral
    pred = np.array([2, 0, 0, 2])  # pro anti anti pro
    # F1(pro) = 2*1/(2*1+1+1) = 0.5; F1(anti) = 2*1/(2*1+1+0) = 2/3; neutral is not averaged.
    f_avg = metrics_module.batch_metric("f_avg", labels, "neutral")
    assert f_avg(gold, pred) == pytest.approx((0.5 + 2 / 3) / 2)
    assert metrics_module.batch_metric("accuracy", labels, "neutral")(gold, pred) == 0.5


def test_majority_vote_and_mcnemar():
    preds = np.array([[0, 1, 2], [0, 2, 1], [1, 2, 0]])
    # column 0: two votes for 0; column 1: two for 2; column 2: a three-way tie -> first seed (2).
    assert stats.majority_vote(preds).tolist() == [0, 2, 2]
    gold = np.zeros(30, dtype=int)
    a, b = gold.copy(), gold.copy()
    b[:12] = 1  # B wrong on 12 examples A gets right, never the reverse
    assert stats.mcnemar(gold, a, b) == pytest.approx(2 * 0.5**12)
    assert stats.mcnemar(gold, a, a) == 1.0


def test_bad_config_and_missing_folder(tmp_path):
    with pytest.raises(StanceError, match="headline"):
        compare(settings(tmp_path, "headline=test/loss", "metrics=[test/loss]"))
    with pytest.raises(StanceError, match="no such folder"):
        compare(settings(tmp_path, f"runs=[{tmp_path / 'nowhere'}]"))


def test_missing_folder_next_to_an_existing_one_is_skipped(sweep, tmp_path, caplog):
    [section] = compare(settings(tmp_path, f"runs=[{tmp_path / 'nowhere'},{sweep}]"))
    assert len(section.table) == 3
    assert "nowhere: no such folder, skipped" in caplog.text


def test_script_prints_table_and_fails_cleanly(sweep, tmp_path, capsys):
    from train_helpers import run_script_in_process

    run_script_in_process("compare", [f"runs=[{sweep}]", f"out_dir={tmp_path / 'out'}"])
    assert "| model=good | 3 |" in capsys.readouterr().out
    assert (tmp_path / "out" / "comparison.png").is_file()
    with pytest.raises(SystemExit) as exit_:
        run_script_in_process("compare", [f"runs=[{tmp_path / 'nowhere'}]"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("labels", "neutral", "gold", "pred"),
    [
        (["anti", "pro"], None, ["pro", "anti", "pro", "pro"], ["pro", "pro", "anti", "pro"]),
        (
            ["anti", "neutral", "pro"],
            "neutral",
            ["pro", "neutral", "anti", "pro", "neutral"],
            ["pro", "anti", "anti", "neutral", "neutral"],
        ),
        # no gold (or predicted) neutral at all: still a 3-way model's F1 over its 3 labels
        (["anti", "neutral", "pro"], "neutral", ["pro", "anti", "pro"], ["pro", "pro", "anti"]),
    ],
)
def test_compare_scores_equal_the_runs_metrics_json(tmp_path, labels, neutral, gold, pred):
    folder = tmp_path / "run"
    (folder / "predictions").mkdir(parents=True)
    index = {label: i for i, label in enumerate(labels)}
    g = np.array([index[x] for x in gold])
    proba = np.eye(len(labels))[[index[x] for x in pred]]
    written = metrics_module.split_metrics(g, proba, labels, neutral, n_bootstrap=0)
    run_files.write_metrics(folder, {f"test/{k}": v for k, v in written.items()})
    rows_ = [
        {"id": f"x{i}", "gold": a, "pred": b}
        for i, (a, b) in enumerate(zip(gold, pred, strict=True))
    ]
    run_files.write_predictions(folder, "test", rows_)
    record = {"status": "complete", "dataset": "d", "dataset_fingerprint": "f", "seed": 0,
              "labels": labels, "neutral_label": neutral, "overrides": []}  # fmt: skip
    (folder / "run.json").write_text(json.dumps(record))
    sections, predictions = group_runs([load_run(folder)], ["seed"])
    test_set, stacked = section_predictions(sections[0], predictions)
    for name in metrics_module.BATCH_METRICS:
        recomputed = _batch_metric(f"test/{name}", test_set)(test_set.gold, stacked[0][0])
        assert recomputed == pytest.approx(written[name]), name


def _fold_runs(root: Path, model: str, error_rate: float, seed: int = 1) -> None:
    """A 5-fold CV of one config: each fold's run has its own test rows (with documents)."""
    for k in range(5):
        rows = np.arange(N)[np.arange(N) % 5 == k]
        gold = GOLD[rows]
        pred = flip(gold, error_rate, seed * 10 + k)
        folder = root / f"{model}_fold{k}"
        (folder / "predictions").mkdir(parents=True)
        lines = [
            json.dumps({"id": f"x{i}", "doc_id": f"d{i // 4}", "gold": g, "pred": p})
            for i, g, p in zip(rows, gold, pred, strict=True)
        ]
        (folder / "predictions" / "test.jsonl").write_text("\n".join(lines) + "\n")
        index = {label: i for i, label in enumerate(LABELS)}
        metric = metrics_module.batch_metric("f_avg", LABELS, None)
        score = float(
            metric(np.array([index[g] for g in gold]), np.array([index[p] for p in pred]))
        )
        (folder / "metrics.json").write_text(
            json.dumps({"test/f_avg": score, "test/f1_macro": score})
        )
        split = {"strategy": "kfold", "folds": 5, "fold": k, "seed": 0}
        (folder / "config.yaml").write_text(
            OmegaConf.to_yaml({"dataset": {"name": "demo", "split": split}})
        )
        record = {"status": "complete", "dataset": "demo", "dataset_fingerprint": f"fp-fold{k}",
                  "labels": LABELS, "neutral_label": None, "seed": seed,
                  "overrides": [f"model={model}", f"dataset.split.fold={k}"]}  # fmt: skip
        (folder / "run.json").write_text(json.dumps(record))


def test_cross_validation_pools_folds_and_tests_with_the_corrected_t_test(tmp_path):
    root = tmp_path / "cv"
    _fold_runs(root, "good", 0.10)
    _fold_runs(root, "bad", 0.35)
    _fold_runs(root, "twin", 0.10)  # the same predictions as good: indistinguishable
    [section] = compare(settings(tmp_path, f"runs=[{root}]"))
    by_config = rows(section.table)
    assert set(by_config) == {"model=good", "model=bad", "model=twin"}
    assert all(r["folds"] == 5 and r["pooled rows"] == N for r in by_config.values())
    good = by_config["model=good"]
    assert good["test/f_avg ci_low"] < good["test/f_avg pooled"] < good["test/f_avg ci_high"]
    assert by_config["model=bad"]["p_vs_best"] < 0.01
    other = "model=twin" if np.isnan(good["p_vs_best"]) else "model=good"
    assert by_config[other]["p_vs_best"] == 1.0
    write_report([section], settings(tmp_path, f"runs=[{root}]"))
    assert "corrected resampled t-test" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_corrected_t_test_by_hand():
    from stance.compare.cv import corrected_t_test

    diffs = [0.02, 0.03, 0.01, 0.04, 0.02]
    d = np.array(diffs)
    t = d.mean() / np.sqrt(d.var(ddof=1) * (1 / 5 + 1 / 4))
    from scipy.stats import t as student

    assert corrected_t_test(diffs, 5) == pytest.approx(2 * student.sf(t, 4))
    assert corrected_t_test([0.0] * 5, 5) == 1.0


def test_comparison_html_says_the_result_in_words_and_marks_the_best(sweep, tmp_path):
    from test_reports import Page

    cfg = settings(tmp_path, f"runs=[{sweep}]")
    paths = write_report(compare(cfg), cfg)
    text = paths["html"].read_text()
    page = Page(text)
    assert not page.external and len(page.images) == 1 and page.images[0].startswith(b"\x89PNG")
    assert "worse than the best (p = 0.0" in text  # model=bad
    assert "indistinguishable from the best (p = 1.00)" in text  # the copy of the best
    assert text.count('<tr class="best">') == 1
