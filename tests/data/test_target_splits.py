"""Cross-target splits (by_target, target_kfold) on a corpus whose documents span targets."""

from __future__ import annotations

import random

import pytest
from data_helpers import user_dataset

from fixtures import sentence, write
from stance.data import build_dataset, load_processed, read_card
from stance.data.overlap import seen_rows, text_hashes, training_record
from stance.errors import StanceError


def spanning_corpus(n_targets: int = 15, n_docs: int = 60, seed: int = 0) -> list[dict]:
    """Comments labelled under 2-3 topics each, so every topic is chained to the others through
    shared documents: half repeat one text under each topic (a comment judged per topic), half
    have a paragraph of their own per topic."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        topics = rng.sample(range(n_targets), min(n_targets, rng.choice((2, 3))))
        text = sentence(rng)
        for k, t in enumerate(topics):
            rows.append(
                {
                    "id": f"d{d}-t{t}",
                    "doc_id": f"d{d}",
                    "text": text if d % 2 else sentence(rng),
                    "label": ("pro", "anti")[(d + k) % 2],
                    "target": f"topic {t}",
                    "source": "Forum",
                    "date": "2020-01-01",
                }
            )
    return rows


def _targets(ds) -> dict[str, set]:
    return {s: set(ds[s]["target"]) for s in ds}


def _by_target(tmp_path, rows, *overrides):
    path = write(tmp_path / "in.csv", rows)
    cfg = user_dataset(path, "dataset.split.strategy=by_target", *overrides)
    folder = build_dataset(cfg, tmp_path / "out")
    return load_processed(folder), read_card(folder)


def test_by_target_splits_a_corpus_whose_documents_chain_every_target(tmp_path):
    rows = spanning_corpus()
    ds, card = _by_target(tmp_path, rows)
    targets = _targets(ds)
    assert all(targets[s] for s in ds)  # before: "split 'validation' came out empty"
    assert not targets["train"] & (targets["validation"] | targets["test"])
    assert not targets["validation"] & targets["test"]
    # a held-out target keeps all its rows; documents span splits and the card says which
    by_target = {}
    for r in rows:
        by_target.setdefault(r["target"], set()).add(r["id"])
    assert set(ds["test"]["id"]) == set().union(*(by_target[t] for t in targets["test"]))
    spread = card["split"]["documents_across_splits"]
    assert spread["documents"] == card["leakage"]["documents_in_several_splits"] > 0
    example = spread["examples"][0]
    assert len(example["splits"]) > 1 and example["doc_id"].startswith("d")
    card_md = (tmp_path / "out" / "my_corpus" / "card.md").read_text()
    assert "documents span splits through their targets" in card_md
    # no text is in train and a held-out split: the train copies of held-out texts are left out
    assert card["leakage"]["texts_in_several_splits"] == 0
    dropped = card["rows"]["held_out_text_dropped"]
    assert dropped > 0 and card["rows"]["balanced"]
    assert not set(text_hashes(ds["train"]["text"])) & set(text_hashes(ds["test"]["text"]))


def test_keeping_shared_texts_is_still_caught_as_leakage(tmp_path):
    ds, card = _by_target(tmp_path, spanning_corpus(), "dataset.split.held_out_text=keep")
    assert card["rows"]["held_out_text_dropped"] == 0
    assert card["leakage"]["texts_in_several_splits"] > 0
    record = training_record(ds, card)  # what evaluate.py compares a test split with
    assert seen_rows(record, ds["test"]["text"], "test").any()


def test_a_hashed_target_keeps_its_split_when_targets_are_added(tmp_path):
    def rows(n_targets):  # one document per row: nothing but the target decides
        return [
            {"id": f"t{t}-{k}", "doc_id": f"t{t}-{k}", "text": f"Row {k} on topic {t}.",
             "label": ("pro", "anti")[k % 2], "target": f"topic {t}", "source": "s",
             "date": "2020-01-01"}
            for t in range(n_targets) for k in range(2)
        ]  # fmt: skip

    def split_of(ds):
        return {t: s for s in ds for t in ds[s]["target"]}

    small, card = _by_target(tmp_path / "a", rows(120))
    assert card["split"]["assigned_by"] == "hash"
    large, _ = _by_target(tmp_path / "b", rows(160))
    before, after = split_of(small), split_of(large)
    assert all(after[t] == s for t, s in before.items())
    few, card = _by_target(tmp_path / "c", rows(12))  # too few targets to hash: shuffled
    assert card["split"]["assigned_by"] == "shuffle" and all(_targets(few).values())


def test_too_few_targets_name_the_cause(tmp_path):
    rows = [r for r in spanning_corpus(n_targets=2) if r["target"] in ("topic 0", "topic 1")]
    with pytest.raises(StanceError, match="only 2 targets; by_target needs at least 3"):
        _by_target(tmp_path, rows)
    rows = spanning_corpus(n_targets=4)
    path = write(tmp_path / "four.csv", rows)
    cfg = user_dataset(path, "dataset.split.strategy=target_kfold", "dataset.split.folds=5")
    with pytest.raises(StanceError, match="only 4 targets; target_kfold with 5 folds needs at "):
        build_dataset(cfg, tmp_path / "o")


def test_target_kfold_leaves_whole_targets_out_and_tests_every_row_once(tmp_path):
    rows = spanning_corpus(n_targets=12, n_docs=50)
    path = write(tmp_path / "in.csv", rows)
    test_ids, test_targets = [], []
    for k in range(4):
        folds = ("dataset.split.folds=4", f"dataset.split.fold={k}")
        cfg = user_dataset(path, "dataset.split.strategy=target_kfold", *folds)
        folder = build_dataset(cfg, tmp_path / "out")
        assert folder.name == f"my_corpus-targetfold{k}of4"
        ds, card = load_processed(folder), read_card(folder)
        targets = _targets(ds)
        assert all(targets.values())
        assert not targets["train"] & (targets["validation"] | targets["test"])
        assert not targets["validation"] & targets["test"]
        assert card["leakage"]["texts_in_several_splits"] == 0
        test_ids += ds["test"]["id"]
        test_targets.append(targets["test"])
    assert sorted(test_ids) == sorted(r["id"] for r in rows)  # every row tested exactly once
    assert len(set().union(*test_targets)) == sum(len(t) for t in test_targets) == 12


def test_compare_pools_target_folds_apart_from_document_folds():
    from omegaconf import OmegaConf

    from stance.compare.records import _kfold

    def run(strategy):
        split = {"strategy": strategy, "folds": 5, "fold": 2, "seed": 0}
        return _kfold(OmegaConf.create({"dataset": {"split": split}}))

    (by_target, fold), (by_doc, _) = run("target_kfold"), run("kfold")
    assert fold == 2 and by_target[0] == by_doc[0] == 5 and by_target != by_doc
