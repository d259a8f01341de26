"""Labelling rounds: `dataset.path` as a list or glob, later labels win, splits that stay put."""

from __future__ import annotations

import json

import pytest
from data_helpers import user_dataset

from fixtures import export_rows, write
from stance.data import build_dataset, load_processed, read_card
from stance.errors import StanceError


def _where(folder) -> dict[str, str]:
    ds = load_processed(folder)
    return {doc: split for split in ds for doc in ds[split]["doc_id"]}


def _rounds(tmp_path, n0: int = 40, n1: int = 20) -> tuple:
    """Round 0 (n0 documents, CSV) and a round-1 sheet of n1 new documents (JSONL)."""
    first = export_rows(n_docs=n0)
    new = [
        {**r, "id": f"r1-{r['id']}", "doc_id": f"r1-{r['doc_id']}"} for r in export_rows(n1, seed=1)
    ]
    return write(tmp_path / "export.csv", first), write(tmp_path / "round1.jsonl", new), first, new


def test_a_list_of_files_of_mixed_formats_builds_one_dataset_with_its_round(tmp_path):
    export, sheet, first, new = _rounds(tmp_path)
    cfg = user_dataset(export, f"dataset.path=[{export},{sheet}]", labels=None)
    folder = build_dataset(cfg, tmp_path / "out")
    ds, card = load_processed(folder), read_card(folder)
    ids = {i for s in ds for i in ds[s]["id"]}
    assert ids == {r["id"] for r in first + new}
    assert card["round"]["name"] == "round 1" and card["round"]["index"] == 1
    assert [f["path"] for f in card["round"]["files"]] == [str(export), str(sheet)]
    assert [f["rows"] for f in card["round"]["files"]] == [len(first), len(new)]
    assert card["rows"]["balanced"]
    assert "Round: round 1" in (folder / "card.md").read_text()


def test_a_paragraph_labelled_again_in_a_later_round_takes_the_later_label(tmp_path):
    export, _, first, _ = _rounds(tmp_path)
    changed = {**first[0], "label": "anti" if first[0]["label"] != "anti" else "pro"}
    sheet = write(tmp_path / "round1.csv", [changed])
    cfg = user_dataset(export, f"dataset.path=[{export},{sheet}]", labels=None)
    folder = build_dataset(cfg, tmp_path / "out")
    ds, card = load_processed(folder), read_card(folder)
    rows = [(s, i) for s in ds for i, row_id in enumerate(ds[s]["id"]) if row_id == first[0]["id"]]
    ((split, i),) = rows
    names = ds[split].features["label"].names
    assert names[ds[split]["label"][i]] == changed["label"]
    over = card["round"]["overridden"]
    assert over["overridden"] == 1 and over["label_changed"] == 1
    assert (
        str(export) in over["examples"][0]["earlier"] and str(sheet) in over["examples"][0]["later"]
    )
    assert card["rows"]["overridden_by_later_round"] == 1 and card["rows"]["balanced"]


def test_a_disagreement_inside_one_round_is_still_a_conflict(tmp_path):
    export, _, first, _ = _rounds(tmp_path)
    twice = [
        {**first[0], "id": "x1", "label": "pro"},
        {**first[0], "id": "x2", "label": "anti"},
    ]
    sheet = write(tmp_path / "round1.csv", twice)
    cfg = user_dataset(export, f"dataset.path=[{export},{sheet}]", labels=None)
    with pytest.raises(StanceError, match=r"conflict|different labels"):
        build_dataset(cfg, tmp_path / "out")


def test_a_glob_reads_the_rounds_in_natural_order(tmp_path):
    rows = export_rows(n_docs=30)
    write(tmp_path / "r" / "round2.csv", [{**rows[0], "label": "anti"}])
    write(tmp_path / "r" / "round10.csv", [{**rows[0], "label": "pro"}])  # later: it wins
    write(tmp_path / "r" / "round1.csv", rows)
    pattern = str(tmp_path / "r" / "round*.csv")
    card = read_card(build_dataset(user_dataset(tmp_path / "r" / "round1.csv",
                                                f"dataset.path={pattern}", labels=None),
                                   tmp_path / "out"))  # fmt: skip
    paths = [f["path"] for f in card["round"]["files"]]
    assert [p.rsplit("/", 1)[1] for p in paths] == ["round1.csv", "round2.csv", "round10.csv"]
    assert card["round"]["overridden"]["overridden"] == 2  # round1's and round2's copy


def test_a_missing_round_file_or_an_empty_glob_is_a_clear_error(tmp_path):
    export, _, _, _ = _rounds(tmp_path)
    missing = tmp_path / "nope.csv"
    with pytest.raises(StanceError, match=r"nope\.csv"):
        build_dataset(user_dataset(export, f"dataset.path=[{export},{missing}]"), tmp_path / "o")
    pattern = str(tmp_path / "labelling" / "*.csv")
    with pytest.raises(StanceError, match="no file matches"):
        build_dataset(user_dataset(export, f"dataset.path=[{export},{pattern}]"), tmp_path / "o")


@pytest.mark.parametrize("strategy", ["grouped", "kfold"])
def test_adding_a_round_never_moves_a_document(tmp_path, strategy):
    export, sheet, _, new = _rounds(tmp_path)
    split = [f"dataset.split.strategy={strategy}", "dataset.name=mine"]
    before_folder = build_dataset(user_dataset(export, *split, labels=None), tmp_path / "out")
    before = _where(before_folder)
    cfg = user_dataset(export, f"dataset.path=[{export},{sheet}]", *split, labels=None)
    after_folder = build_dataset(cfg, tmp_path / "out")
    after, card = _where(after_folder), read_card(after_folder)
    assert after_folder == before_folder  # the same folder, rebuilt
    assert {d: after[d] for d in before} == before
    assert len({after[d] for d in {r["doc_id"] for r in new}}) >= 2  # new ones fall by the rule
    prev = card["previous"]
    assert prev["documents_moved"] == 0 and prev["documents_added"] == len(
        {r["doc_id"] for r in new}
    )
    assert prev["round"] == "round 0"


def test_the_seeded_shuffle_moves_documents_and_the_card_says_so(tmp_path):
    """The check above can fail: the stratified shuffle reassigns old documents."""
    export, sheet, _, _ = _rounds(tmp_path)
    shuffle = ("dataset.split.assign=shuffle", "dataset.name=mine")
    before = _where(build_dataset(user_dataset(export, *shuffle, labels=None), tmp_path / "out"))
    cfg = user_dataset(export, f"dataset.path=[{export},{sheet}]", *shuffle, labels=None)
    folder = build_dataset(cfg, tmp_path / "out")
    after, card = _where(folder), read_card(folder)
    moved = [d for d in before if after[d] != before[d]]
    assert moved and card["previous"]["documents_moved"] == len(moved)
    assert any("changed split since the previous build" in w for w in card["warnings"])


def test_skip_mode_names_the_real_cause_and_writes_the_rejects(tmp_path):
    rows = [
        {**r, "date": f"{1 + i % 12:02d}/{13 + i % 15}/2020"} for i, r in enumerate(export_rows())
    ]
    path = write(tmp_path / "in.csv", rows)  # US-style dates, read as %Y-%m-%d: all invalid
    cfg = user_dataset(path, "dataset.on_bad_rows=skip")
    with pytest.raises(StanceError) as err:
        build_dataset(cfg, tmp_path / "out")
    message = str(err.value)
    assert f"bad date: {len(rows)}" in message and "label_map" not in message
    kept = tmp_path / "out" / "my_corpus.rejects.jsonl"
    assert str(kept) in message
    lines = kept.read_text().splitlines()
    assert len(lines) == len(rows) and json.loads(lines[0])["kind"] == "bad date"


def test_small_splits_and_missing_labels_warn_with_the_kfold_command(tmp_path):
    folder = build_dataset(
        user_dataset(write(tmp_path / "in.csv", export_rows(n_docs=20))), tmp_path
    )
    warnings = read_card(folder)["warnings"]
    small = [w for w in warnings if "split has only" in w]
    assert small and all("dataset.split.strategy=kfold" in w for w in small)
