"""Learning curves: nested train fractions, and compare's curve, fit and sentence per family."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from omegaconf import OmegaConf

from fixtures import flip, tiny_dataset
from stance.compare import compare
from stance.compare.learning_curve import curves, fit_curve
from stance.compare.report import write_report
from stance.data.fractions import apply_train_fraction, kept_rows
from stance.errors import StanceError
from stance.experiment.training import train
from stance.scoring import metrics as metrics_module
from test_compare import GOLD, LABELS, N, settings
from test_train import TINY, use_dataset  # noqa: F401  (the fixture)
from train_helpers import compose_cfg

FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def documents(n_docs: int = 90, seed: int = 3) -> Dataset:
    """Documents of 1 to 7 rows with a majority label each (and a minority row now and then)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"id": [], "text": [], "label": [], "doc_id": []}
    for d in range(n_docs):
        main = int(rng.choice(3, p=[0.5, 0.3, 0.2]))
        for i in range(int(rng.integers(1, 8))):
            label = int(rng.integers(3)) if i and rng.random() < 0.2 else main
            rows["id"].append(f"d{d}-{i}")
            rows["text"].append(f"text {d} {i}")
            rows["label"].append(label)
            rows["doc_id"].append(f"doc{d}")
    features = Features(
        id=Value("string"),
        text=Value("string"),
        label=ClassLabel(names=["anti", "neutral", "pro"]),
        doc_id=Value("string"),
    )
    return Dataset.from_dict(rows, features=features)


def splits(train: Dataset) -> DatasetDict:
    return DatasetDict(train=train, validation=documents(10, 4), test=documents(10, 5))


def cfg(fraction: float, seed: int = 0):
    return OmegaConf.create({"name": "toy", "train_fraction": fraction, "split": {"seed": seed}})


def kept_ids(dataset: DatasetDict, fraction: float, seed: int = 0) -> set[str]:
    return set(apply_train_fraction(dataset, cfg(fraction, seed))["train"]["id"])


def test_fractions_are_nested_grouped_and_stratified():
    data = splits(documents())
    train = data["train"].to_pandas()
    stratum = train.groupby("doc_id")["label"].agg(lambda s: s.value_counts().sort_index().idxmax())
    size = train.groupby("doc_id").size()
    previous: set[str] = set()
    for fraction in FRACTIONS:
        ids = kept_ids(data, fraction)
        assert previous < ids  # nested, and each fraction adds documents
        kept = train[train["id"].isin(ids)]
        docs = set(kept["doc_id"])
        assert set(train[train["doc_id"].isin(docs)]["id"]) == ids  # whole documents only
        for s in range(3):  # each stratum keeps its share, up to one document's rows
            in_stratum = stratum[stratum == s].index
            share = size[in_stratum.intersection(list(docs))].sum() / size[in_stratum].sum()
            assert abs(share - fraction) <= size[in_stratum].max() / size[in_stratum].sum()
        previous = ids
    assert previous == set(train["id"])


def test_fractions_are_deterministic_seeded_and_ignore_row_order():
    data = splits(documents())
    shuffled = splits(data["train"].shuffle(seed=1))
    assert kept_ids(data, 0.25) == kept_ids(data, 0.25) == kept_ids(shuffled, 0.25)
    assert kept_ids(data, 0.25, seed=1) != kept_ids(data, 0.25)  # the split seed orders them


def test_validation_and_test_are_untouched_and_one_is_identity():
    data = splits(documents())
    cut = apply_train_fraction(data, cfg(0.25))
    assert cut["validation"] is data["validation"] and cut["test"] is data["test"]
    assert len(cut["train"]) < len(data["train"])
    assert apply_train_fraction(data, cfg(1.0)) is data
    assert len(kept_rows(["a", "a", "b"], [0, 0, 1], 0.01, 0)) == 3  # a document per stratum


def test_a_fraction_leaves_the_built_dataset_current():
    from stance.data.schema import as_dataset_config, config_dict

    node = {"name": "toy", "format": "csv", "path": "toy.csv", "labels": ["anti", "pro"]}
    cut = as_dataset_config({**node, "train_fraction": 0.25})
    assert cut.train_fraction == 0.25
    # the build (and its fingerprint) never sees it: every fraction loads the same folder
    assert config_dict(cut) == config_dict(as_dataset_config(node))


@pytest.mark.parametrize("fraction", [0.0, 1.5, -0.2])
def test_a_fraction_outside_zero_one_is_a_clear_error(fraction):
    with pytest.raises(StanceError, match=r"train_fraction.*\(0, 1\]"):
        apply_train_fraction(splits(documents()), cfg(fraction))


def test_training_record_lists_only_the_rows_trained_on(tmp_path: Path, use_dataset) -> None:  # noqa: F811
    data = tiny_dataset(n=200)
    use_dataset(data)
    run_dir = tmp_path / "run"
    train(compose_cfg("train", [*TINY, "dataset.train_fraction=0.25", f"run_dir={run_dir}"]))
    record = json.loads((run_dir / "model" / "training_data.json").read_text())
    kept = kept_rows(data["train"]["doc_id"], data["train"]["label"], 0.25, 0)
    assert len(record["rows"]["train"]) == len(kept) < 0.4 * len(data["train"])
    assert len(record["rows"]["validation"]) == len(data["validation"])
    assert OmegaConf.load(run_dir / "config.yaml").dataset.train_fraction == 0.25


# -- compare -----------------------------------------------------------------------------------
def error_rate(n: float) -> float:
    """Errors fall with the labels as a power law: F_avg about 0.95 - 3 n^-0.5 on binary data."""
    return 0.05 + 3 * n**-0.5


def write_cv_runs(root: Path, model: str, fractions=FRACTIONS, full: int = 400) -> None:
    """5 folds per fraction; each model records the rows it trained on (fraction * full)."""
    for fraction in fractions:
        n = int(fraction * full)
        for k in range(5):
            rows = np.arange(N)[np.arange(N) % 5 == k]
            pred = flip(GOLD[rows], error_rate(n), seed=k + int(fraction * 100))
            folder = root / f"{model}_f{fraction}_fold{k}"
            (folder / "predictions").mkdir(parents=True)
            (folder / "model").mkdir()
            (folder / "model" / "training_data.json").write_text(
                json.dumps({"rows": {"train": ["h"] * n, "validation": []}})
            )
            lines = [
                json.dumps({"id": f"x{i}", "doc_id": f"d{i // 4}", "gold": g, "pred": p})
                for i, g, p in zip(rows, GOLD[rows], pred, strict=True)
            ]
            (folder / "predictions" / "test.jsonl").write_text("\n".join(lines) + "\n")
            index = {label: i for i, label in enumerate(LABELS)}
            metric = metrics_module.batch_metric("f_avg", LABELS, None)
            gold = np.array([index[g] for g in GOLD[rows]])
            score = float(metric(gold, np.array([index[p] for p in pred])))
            (folder / "metrics.json").write_text(
                json.dumps({"test/f_avg": score, "test/f1_macro": score})
            )
            split = {"strategy": "kfold", "folds": 5, "fold": k, "seed": 0}
            dataset = {"name": "demo", "split": split, "train_fraction": fraction}
            (folder / "config.yaml").write_text(OmegaConf.to_yaml({"dataset": dataset}))
            overrides = [f"model={model}", f"dataset.split.fold={k}"]
            overrides += [f"dataset.train_fraction={fraction}"] if fraction != 1.0 else []
            record = {"status": "complete", "dataset": "demo", "dataset_fingerprint": f"fp{k}"}
            record |= {"labels": LABELS, "neutral_label": None, "seed": 0, "overrides": overrides}
            (folder / "run.json").write_text(json.dumps(record))


def test_compare_draws_the_curve_and_says_how_many_labels_reach_the_target(tmp_path):
    root = tmp_path / "multirun"
    write_cv_runs(root, "good")
    write_cv_runs(root, "small", fractions=(0.25, 1.0), full=100)
    settings_ = settings(tmp_path, f"runs=[{root}]")
    [section] = compare(settings_)
    # each fraction is a config of its own, pooled over its 5 folds
    assert len(section.table) == 6 and set(section.table["folds"]) == {5}
    [curve] = curves([section], settings_)
    good = curve.points[curve.points["family"] == "good"]
    assert good["labels"].tolist() == [40, 100, 200, 400]
    assert good["score"].is_monotonic_increasing
    assert curve.fits["good"].kind == "power law"
    assert curve.fits["small"].kind == "log-linear"  # two fractions: too few for three parameters
    assert curve.target == pytest.approx(good["score"].iloc[-1] + 0.05)
    said = curve.sentences["good"]
    match = re.search(r"reaches (\d+\.\d) at about ([\d,]+) labels \(extrapolated, x([\d.]+)", said)
    assert said.startswith(f"good: {good['score'].iloc[-1] * 100:.1f} at 400 labels"), said
    assert match and float(match[1]) == pytest.approx(curve.target * 100, abs=0.05)
    need = float(match[2].replace(",", ""))
    assert 400 < need < 4000 and float(match[3]) == pytest.approx(need / 400, abs=0.05)

    paths = write_report([section], settings_)
    png = paths["learning_curve"]
    assert png.read_bytes().startswith(b"\x89PNG")
    md, page = paths["md"].read_text(), paths["html"].read_text()
    assert "## Learning curve" in md and said in md and "fit: power law" in md
    assert page.count("<img") == 2 and "Learning curve" in page


def test_an_unreachable_target_is_said_and_a_bad_one_refused(tmp_path):
    root = tmp_path / "multirun"
    write_cv_runs(root, "good")
    [section] = compare(settings(tmp_path, f"runs=[{root}]"))
    [curve] = curves([section], settings(tmp_path, "learning_curve.target=0.99"))
    assert "0.99" not in curve.sentences["good"] and "99.0" in curve.sentences["good"]
    assert re.search(r"never reaches 99.0|does not reach 99.0 within 10x", curve.sentences["good"])
    with pytest.raises(StanceError, match=r"learning_curve\.target"):
        curves([section], settings(tmp_path, "learning_curve.target=60"))


def test_one_fraction_gives_no_curve(tmp_path):
    root = tmp_path / "multirun"
    write_cv_runs(root, "good", fractions=(1.0,))
    settings_ = settings(tmp_path, f"runs=[{root}]")
    sections = compare(settings_)
    assert curves(sections, settings_) == []
    paths = write_report(sections, settings_)
    assert "learning_curve" not in paths and "Learning curve" not in paths["md"].read_text()


def test_the_fit_recovers_a_known_power_law_and_solves_for_a_score():
    n = np.array([50, 100, 200, 400, 800, 1600])
    score = 0.7 - 2.0 * n**-0.5
    fit = fit_curve(n, score)
    assert fit.kind == "power law"
    assert fit.params == pytest.approx((0.7, 2.0, 0.5), rel=1e-3)
    assert fit.labels_for(0.65) == pytest.approx(1600, rel=1e-2)
    assert fit.labels_for(0.75) == np.inf  # above the asymptote
    line = fit_curve(n[:3], 0.2 + 0.05 * np.log(n[:3]))
    assert line.kind == "log-linear" and line.params == pytest.approx((0.2, 0.05))
    assert line.labels_for(0.2 + 0.05 * np.log(1000)) == pytest.approx(1000)
    assert fit_curve(np.array([100, 100]), np.array([0.5, 0.6])) is None


def test_a_flat_fit_says_out_of_reach_without_an_absurd_number() -> None:
    import pandas as pd

    from stance.compare.learning_curve import Fit, sentence

    pts = pd.DataFrame({"fraction": [0.5, 1.0], "labels": [245.0, 490.0], "score": [0.47, 0.48]})
    flat = Fit("log-linear", (0.45, 0.0057))  # reaches 0.614 at about 10^12 labels
    text = sentence("setfit", pts, flat, 0.614, 10, 100)
    assert text.endswith(
        "does not reach 61.4 within 10x the labels (the log-linear fit puts it beyond 100x)"
    )
    near = Fit("log-linear", (0.0, 0.614 / np.log(7000.0)))  # 0.614 at 7,000 labels: 14x
    assert "puts it at about 7,000" in sentence("setfit", pts, near, 0.614, 10, 100)
