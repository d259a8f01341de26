"""The whole labelling loop, as the README walks it, on a generated export (issue 20's done-when):
build (3-way) -> train -> suggest -> fill the sheet -> build with `path` as a list -> train ->
compare. No document changes split, the round-0 run stays and loads, compare names both rounds,
nothing labelled before is suggested, and the review sheet lists a planted wrong label."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fixtures import ANTI, PRO, paragraphs
from stance import runs
from stance.data import load_processed, read_card
from stance.data.overlap import text_hashes
from stance.predict import load_model
from train_helpers import run_script_in_process

TARGETS = ("tariffs", "aid", "sanctions")
PLANTED = "planted-wrong"


def _paragraphs(n: int, seed: int, per_doc: int) -> list[dict]:
    """``n`` clear 3-way paragraphs (two cue words, or none for neutral; pro, anti, neutral in
    turn by row) on the 3 policies, in documents of ``per_doc``."""
    classes = ("pro", "anti", "neutral")
    return paragraphs(n, seed, classes, noise=0.0, cues=2, cycle=True, per_doc=per_doc,
                      policies=TARGETS)  # fmt: skip


def _export(path: Path) -> list[dict]:
    """36 articles of 4 paragraphs on 3 policies, 3-way, with one plainly pro paragraph labelled
    anti (the planted error)."""
    keys = ("id", "doc_id", "target", "text", "label")
    rows = [{k: r[k] for k in keys} for r in _paragraphs(36 * 4, 3, per_doc=4)]
    rows[5] |= {"id": PLANTED, "label": "anti", "text": "We support, welcome and applaud it."}
    _write(path, rows)
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _config(folder: Path, path: object) -> None:
    """configs/dataset/mine.yaml: the README's own-data config (the template's keys and 3-way
    labels), with `path` as given (one file, then the rounds' list)."""
    config = {
        "defaults": ["csv_template", "_self_"],
        "name": "mine",
        "path": path,
        "columns": {"id": "id", "doc_id": "doc_id", "target": "target"},
    }
    (folder / "dataset").mkdir(parents=True, exist_ok=True)
    (folder / "dataset" / "mine.yaml").write_text(json.dumps(config))  # JSON is YAML


def _splits(folder: Path) -> dict[str, str]:
    built = load_processed(folder)
    return {doc: split for split in built for doc in built[split]["doc_id"]}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_labelling_loop_end_to_end(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    configs, processed = tmp_path / "configs", tmp_path / "processed"
    export = tmp_path / "export.csv"
    rows = _export(export)
    _config(configs, str(export))
    common = [f"hydra.searchpath=[file://{configs}]", f"paths.processed_root={processed}"]
    train = ["dataset=mine", *common, f"paths.runs_root={tmp_path / 'runs'}",
             "model.char_ngrams=null", "evaluation.bootstrap=0"]  # fmt: skip

    # round 0: build (3-way by the template) and train
    run_script_in_process("build_dataset", ["dataset=mine", *common])
    card0 = read_card(processed / "mine")
    assert card0["labels"] == ["anti", "neutral", "pro"] and card0["round"]["name"] == "round 0"
    before = _splits(processed / "mine")
    run_script_in_process("train", train)
    (run0,) = [p.parent for p in (tmp_path / "runs").rglob(runs.RUN_FILE)]
    record0 = (run0 / runs.RUN_FILE).read_text()

    # new articles: a paragraph labelled already (in whichever split), furniture, new text
    labelled_again = rows[-1]["text"]
    new = [{"doc_id": "n0", "target": "aid", "text": labelled_again},
           {"doc_id": "n0", "target": "aid", "text": "By Thomas Reed"},
           {"doc_id": "n0", "target": "aid", "text": "Share this article"}]  # fmt: skip
    new += [{k: r[k] for k in ("doc_id", "target", "text")} for r in _paragraphs(30, 9, 3)]
    _write(tmp_path / "new.csv", new)
    out = tmp_path / "labelling" / "round1"
    run_script_in_process("suggest", [f"model={run0}", "input=new.csv", "dataset=mine",
                                      f"out={out}", "n=12", *common])  # fmt: skip
    sheet = list(csv.DictReader((out / "label_sheet.csv").open(encoding="utf-8")))
    assert len(sheet) == 12
    suggested = set(text_hashes([r["text"] for r in sheet]))
    assert not suggested & set(text_hashes([r["text"] for r in rows]))  # never labelled before
    assert not {"By Thomas Reed", "Share this article"} & {r["text"] for r in sheet}
    review = list(csv.DictReader((out / "review_sheet.csv").open(encoding="utf-8")))
    planted = [r for r in review if r["id"] == PLANTED]
    assert planted and planted[0]["given_label"] == "anti"
    assert planted[0]["suggested_label"] == "pro"

    # the analyst fills the sheet; the round goes into the config's path list
    for r in sheet:
        words = set(r["text"].lower().strip(".").split())
        r["label"] = "pro" if words & set(PRO) else "anti" if words & set(ANTI) else "neutral"
    _write(out / "label_sheet.csv", sheet)
    _config(configs, [str(export), str(out / "label_sheet.csv")])
    run_script_in_process("build_dataset", ["dataset=mine", *common])
    card1 = read_card(processed / "mine")
    assert card1["round"]["name"] == "round 1"
    after = _splits(processed / "mine")
    assert {doc: after[doc] for doc in before} == before  # no existing document moved
    assert card1["previous"]["documents_moved"] == 0
    assert card1["previous"]["fingerprint"] == card0["fingerprint"]
    assert sum(card1["counts"][s]["total"] for s in card1["counts"]) == len(rows) + 12

    # round 1 trains with the same command; round 0's run is kept and still loads
    capsys.readouterr()
    run_script_in_process("train", train)
    assert "kept as it is" in capsys.readouterr().out
    assert (run0 / runs.RUN_FILE).read_text() == record0
    assert load_model(run0).classes_ == ["anti", "neutral", "pro"]
    run1 = run0.with_name(f"{run0.name}.round-1")
    assert runs.read_run(run1)["dataset_round"]["name"] == "round 1"

    # compare names both rounds and lines their scores up against their labels
    compared = tmp_path / "comparison"
    run_script_in_process("compare", [f"runs=[{tmp_path / 'runs'}]", f"out_dir={compared}"])
    table = (compared / "comparison.md").read_text()
    assert "round 0 (built" in table and "round 1 (built" in table
    assert "Labels vs score across rounds" in table
