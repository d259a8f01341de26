"""The labelling loop: ranking what to label next, the label sheet, suggest -> label -> build,
and a later round: nothing labelled before (in any split) comes back, furniture stays out."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from datasets import load_from_disk

from fixtures import ANTI, PRO, tiny_dataset
from stance.data import overlap
from stance.data.overlap import text_hashes
from stance.data.schema import DedupConfig
from stance.errors import StanceError
from stance.labelling.suggest import Candidate, rank
from train_helpers import run_script_in_process, write_csv


def cand(text: str, uncertainty: float, doc: str | None = None, target: str = "t") -> Candidate:
    row = {"id": text[:12], "text": text, "target": target} | ({"doc_id": doc} if doc else {})
    return Candidate(row, "pro", uncertainty)


def texts(chosen: list[Candidate]) -> list[str]:
    return [c.row["text"] for c in chosen]


def test_most_uncertain_first_without_trained_on_or_duplicate_paragraphs() -> None:
    near = "the senate voted on the new tariffs on steel and aluminium imports today"
    pool = [
        cand("a sure paragraph about the aid package for farmers", 0.1),
        cand("an unsure paragraph about the aid package for farmers", 0.9),
        cand("An  UNSURE paragraph about the aid package for farmers", 0.2),  # exact copy
        cand(near, 0.5),
        cand(near + " again", 0.7),  # a near-duplicate: only the more uncertain one stays
        cand("a paragraph the model was trained on already", 0.99),
    ]
    seen = set(text_hashes(["A paragraph the model was trained on already"]))
    chosen, counts = rank(pool, 10, seen, 3, DedupConfig())
    assert texts(chosen) == [pool[1].row["text"], pool[4].row["text"], pool[0].row["text"]]
    assert counts == {"pool": 6, "labelled": 1, "furniture": 0, "duplicates": 2,
                      "capped_per_document": 0, "chosen": 3}  # fmt: skip


def test_a_round_takes_targets_in_turn_and_caps_each_document() -> None:
    pool = [cand(f"paragraph number {i} on tariffs", 0.9 - i / 100, "d1", "tariffs")
            for i in range(5)]  # fmt: skip
    pool += [cand(f"paragraph number {i} on aid", 0.5 - i / 100, f"a{i}", "aid") for i in range(2)]
    chosen, counts = rank(pool, 5, set(), 2, DedupConfig())
    # aid (fewer, less uncertain) still gets its turn; d1 gives at most 2
    assert [c.row["target"] for c in chosen] == ["aid", "tariffs", "aid", "tariffs"]
    assert counts["capped_per_document"] == 3
    with pytest.raises(StanceError, match="no paragraphs"):
        rank([], 5, set(), 2, DedupConfig())
    with pytest.raises(StanceError, match="all 1 paragraphs are labelled already"):
        rank(pool[:1], 5, set(text_hashes([pool[0].row["text"]])), 2, DedupConfig())


def tiny_run(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A run that train.py wrote for the tiny corpus as ``dataset=csv_template`` (named tiny):
    the run folder, the dataset overrides and the paths overrides."""
    dataset = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    paths = [f"paths.processed_root={tmp_path / 'processed'}", f"paths.runs_root={tmp_path}/runs"]
    run_script_in_process("train", [*dataset, *paths, "evaluation.bootstrap=0"])
    (run,) = (tmp_path / "runs" / "tiny" / "tfidf_logreg").iterdir()
    return run, dataset, paths


def test_suggest_label_build_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run, dataset, paths = tiny_run(tmp_path)
    unlabelled = tmp_path / "new.csv"
    with unlabelled.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc_id", "target", "text"])
        for i in range(30):
            cue = (PRO + ANTI)[i % 12]
            writer.writerow([f"n{i // 3}", "aid", f"Paragraph {i}: they {cue} the aid bill {i}."])
    out = tmp_path / "round1"
    run_script_in_process("suggest", [f"model={run}", f"input={unlabelled}", "n=12", f"out={out}"])
    assert "chose 12 of 30 paragraphs" in capsys.readouterr().err
    sheet = list(csv.DictReader((out / "label_sheet.csv").open()))
    # exactly the columns dataset=csv_template (as trained) reads, in its order, label empty
    assert list(sheet[0]) == ["text", "label", "id", "doc_id", "target", "source"]
    assert all(r["label"] == "" for r in sheet) and len(sheet) == 12
    tasks = json.loads((out / "label_studio_tasks.json").read_text())
    assert [t["data"]["text"] for t in tasks] == [r["text"] for r in sheet]
    assert set(tasks[0]["data"]) == set(sheet[0]) - {"label"}
    view = ET.fromstring((out / "label_studio_config.xml").read_text())
    choices = view.find("Choices")
    assert choices.get("name") == "label" and choices.get("toName") == "text"
    assert [c.get("value") for c in choices] == ["pro", "anti", "neutral"]  # labels, then neutral
    # the analyst labels the sheet; it goes straight back into build_dataset.py
    for row in sheet:
        row["label"] = "pro" if any(w in row["text"] for w in PRO) else "anti"
    labelled = tmp_path / "round1_labelled.csv"
    with labelled.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    # a round alone is small (12 rows of 7 documents): split it by row
    small = [
        "dataset.split.strategy=random",
        "dataset.split.ratios={train: 0.5, validation: 0.25, test: 0.25}",
    ]
    build = [*dataset, f"dataset.path={labelled}", "dataset.name=round1", *small, paths[0]]
    run_script_in_process("build_dataset", build)
    built = load_from_disk(str(tmp_path / "processed" / "round1"))
    assert sum(len(built[s]) for s in built) == 12
    with pytest.raises(SystemExit) as exit_info:  # a second round never overwrites the first
        run_script_in_process("suggest", [f"model={run}", f"input={unlabelled}", f"out={out}"])
    assert exit_info.value.code == 2 and "may hold your labels" in capsys.readouterr().err


def test_a_paragraph_labelled_earlier_is_never_suggested_again_whatever_its_split(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run, dataset, paths = tiny_run(tmp_path)
    built = load_from_disk(str(tmp_path / "processed" / "tiny"))
    in_test = list(built["test"]["text"][:3])
    # the round 2: the model's training record does not list the test split
    record = overlap.read_record(run / "model")
    listed = {h for split in overlap.SEEN_SPLITS for h in record["rows"][split]}
    assert not listed & set(overlap.text_hashes(in_test))
    new = [f"Paragraph {i}: they {(PRO + ANTI)[i]} the aid bill number {i}." for i in range(6)]
    furniture = ["By Thomas Reed", "Share this article"]
    unlabelled = tmp_path / "round2_pool.csv"
    with unlabelled.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc_id", "target", "text"])
        for i, text in enumerate(in_test + new + furniture):
            writer.writerow([f"n{i}", "aid", text])
    out = tmp_path / "round2"
    argv = [f"model={run}", f"input={unlabelled}", "n=50", f"out={out}", *dataset, paths[0]]
    run_script_in_process("suggest", argv)
    err = capsys.readouterr().err
    sheet = [row["text"] for row in csv.DictReader((out / "label_sheet.csv").open())]
    assert sorted(sheet) == sorted(new)  # neither the test-split paragraphs nor the furniture
    assert "chose 6 of 11 paragraphs; left out 3 labelled already, 2 furniture lines " in err
    assert "(byline 1, share 1)" in err
    # the labels of every split are reviewed, in the dataset's own columns plus the review's
    review = list(csv.DictReader((out / "review_sheet.csv").open()))
    assert "review: " in err and f"{out / 'review_sheet.csv'}" in err
    assert review and list(review[0])[:6] == ["text", "label", "id", "doc_id", "target", "source"]
    assert all(r["label"] == r["given_label"] != r["suggested_label"] for r in review)


@pytest.mark.parametrize(
    ("setting", "message"), [("diversity=1.5", "outside [0, 1]"), ("review.folds=1", "1 folds")]
)
def test_settings_that_cannot_work_stop_before_anything_is_read(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, setting: str, message: str
) -> None:
    argv = [f"model={run_dir}", f"input={tmp_path / 'absent.csv'}", f"out={tmp_path}", setting]
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("suggest", argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_paragraph_whose_label_the_build_left_out_is_labelled_all_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's binary build: neutral rows are labelled, but excluded from every split."""
    monkeypatch.chdir(tmp_path)
    run, dataset, paths = tiny_run(tmp_path)
    neutral = "the senator described the aid bill and its history at length today"
    new = "they support the aid bill for the farmers"
    with (tmp_path / "tiny.csv").open("a", newline="") as fh:  # labelled after training
        csv.writer(fh).writerow(["n-0", neutral, "neutral", "dn", "aid", "Wire"])
    pool = tmp_path / "pool.csv"
    with pool.open("w", newline="") as fh:
        csv.writer(fh).writerows([["doc_id", "target", "text"], ["x1", "aid", neutral]])
        csv.writer(fh).writerow(["x2", "aid", new])
    out = tmp_path / "round2"
    argv = [f"model={run}", f"input={pool}", f"out={out}", *dataset, paths[0], "review.sheet=false"]
    run_script_in_process("suggest", argv)
    assert "excluded_by_label" in (tmp_path / "processed" / "tiny" / "card.json").read_text()
    sheet = [row["text"] for row in csv.DictReader((out / "label_sheet.csv").open())]
    assert sheet == [new]
    assert "chose 1 of 2 paragraphs; left out 1 labelled already" in capsys.readouterr().err
