"""No score on rows the model trained on; a re-evaluation is a row of its own in compare."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).parent / "data"))

from fixtures import export_rows, write
from stance import runs
from stance.compare.records import group_runs, load_run
from stance.data import overlap, read_card
from stance.errors import StanceError
from stance.experiment.evaluation import evaluate_saved
from stance.experiment.training import train
from train_helpers import compose_cfg

COLUMNS = [f"dataset.columns.{c}={c}" for c in ("id", "doc_id", "target", "source", "date")]


def _data(tmp_path: Path) -> list[str]:
    path = write(tmp_path / "in.csv", export_rows(n_docs=150))
    return [
        "dataset=csv_template",
        f"dataset.path={path}",
        *COLUMNS,
        "dataset.split.assign=shuffle",  # the seeded shuffle the seeds' overlaps below are from
        f"paths.processed_root={tmp_path / 'processed'}",
        "evaluation.bootstrap=0",
    ]


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    train(compose_cfg("train", [*_data(tmp_path), "model.char_ngrams=null", f"run_dir={run_dir}"]))
    return run_dir


def _evaluate(tmp_path: Path, run_dir: Path, name: str, *overrides: str) -> dict:
    args = [*_data(tmp_path), f"model_path={run_dir}", f"run_dir={tmp_path / name}", *overrides]
    return evaluate_saved(compose_cfg("evaluate", args))


def test_the_model_folder_records_what_it_was_trained_on(tmp_path: Path, trained: Path) -> None:
    record = overlap.read_record(trained / "model")
    card = read_card(tmp_path / "processed" / "my_corpus")
    assert record["dataset"] == "my_corpus" and record["fingerprint"] == card["fingerprint"]
    assert record["split"]["seed"] == 0
    for split in overlap.SEEN_SPLITS:
        assert len(record["rows"][split]) == card["counts"][split]["total"]


def test_a_resplit_test_set_stops_with_the_count_and_the_reason(tmp_path: Path, trained) -> None:
    # the reproduction: the same corpus split with another seed puts training rows in test
    with pytest.raises(StanceError) as err:
        _evaluate(tmp_path, trained, "eval", "dataset.split.seed=3", "evaluation.splits=[test]")
    message = str(err.value)
    assert (
        "split 'test'" in message
        and "rows were in the model's training or validation rows" in message
    )
    assert "the split seed differs from training (0)" in message
    assert "allow_overlap=true" in message
    assert runs.read_run(tmp_path / "eval") is None  # stopped before writing a score


def test_allow_overlap_scores_only_the_unseen_rows_and_records_the_overlap(tmp_path, trained):
    # seed 5 puts 11 of its 15 test documents in the training rows of seed 0, and 4 not
    metrics = _evaluate(tmp_path, trained, "eval", "dataset.split.seed=5", "allow_overlap=true")
    seen = int(metrics["test/overlap_rows"])
    assert seen > 0
    scored = len(runs.read_predictions(tmp_path / "eval", "test"))
    resplit = read_card(tmp_path / "processed" / "my_corpus")
    assert resplit["split"]["seed"] == 5 and scored + seen == resplit["counts"]["test"]["total"]
    assert scored > 0
    record = runs.read_run(tmp_path / "eval")
    assert record["overlap"]["test"] == seen and record["kind"] == "evaluate"
    texts = [r["text"] for r in runs.read_predictions(tmp_path / "eval", "test")]
    assert not overlap.seen_rows(overlap.read_record(trained / "model"), texts, "test").any()


def test_the_training_split_itself_evaluates_and_compare_keeps_it_apart(tmp_path, trained):
    again = _evaluate(tmp_path, trained, "eval")  # same config: validation may overlap its own
    assert again["test/overlap_rows"] == 0 and again["validation/overlap_rows"] == 0
    assert again["test/f_avg"] == pytest.approx(runs.read_metrics(trained)["test/f_avg"])
    sections, _ = group_runs([load_run(trained), load_run(tmp_path / "eval")], ["seed"])
    (section,) = sections
    assert len(section.configs) == 2  # a re-evaluation is never a second seed of its run
    assert [len(c.runs) for c in section.configs] == [1, 1]


def test_evaluation_folders_follow_the_model_the_dataset_and_the_overrides() -> None:
    def run_dir(*overrides: str) -> str:
        args = ["model_path=runs/demo/tfidf_logreg/default", *overrides]
        return OmegaConf.select(
            compose_cfg("evaluate", args, return_hydra_config=True), "hydra.run.dir"
        )

    base = "runs/evaluate/demo/runs_demo_tfidf_logreg_default"
    assert run_dir() == f"{base}/default"
    assert run_dir("dataset.split.seed=3") == f"{base}/dataset.split.seed-3"
    assert run_dir("paths.processed_root=/elsewhere") == f"{base}/default"  # not a result change


def test_follow_seed_makes_the_split_follow_the_runs_seed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    overrides = ["dataset.split.follow_seed=true", "seed=3", "model.char_ngrams=null"]
    train(compose_cfg("train", [*_data(tmp_path), *overrides, f"run_dir={run_dir}"]))
    card = read_card(tmp_path / "processed" / "my_corpus-seed3")
    assert card["split"]["seed"] == 3
    assert overlap.read_record(run_dir / "model")["split"]["seed"] == 3
