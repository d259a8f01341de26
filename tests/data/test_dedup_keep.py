"""A fixed benchmark's label conflicts: kept as they are (dedup.conflicts=keep), named by target."""

from __future__ import annotations

import pytest
from data_helpers import user_dataset

from fixtures import export_rows, write
from stance.data import build_dataset, load_processed, read_card
from stance.errors import StanceError

TEXT = "The tariff deal is a win for farmers in the valley."


def _benchmark(tmp_path, *overrides):
    """A predefined split whose test split holds one text twice under one target, labelled
    pro and anti (and a third, agreeing copy in train)."""
    rows = export_rows(n_docs=12)
    for i, r in enumerate(rows):
        r["split"] = ("train", "val", "test", "train")[i % 4]
    extra = [("c0", "pro", "test"), ("c1", "anti", "test"), ("c2", "pro", "train")]
    for doc, label, split in extra:
        row = {**rows[0], "id": doc, "doc_id": doc, "text": TEXT, "label": label, "split": split}
        rows.append({**row, "target": "policy 7"})
    path = write(tmp_path / "in.csv", rows)
    predefined = ("dataset.split.strategy=predefined", "dataset.columns.split=split")
    return user_dataset(path, *predefined, *overrides)


def test_the_conflict_message_names_the_target_and_suggests_keep_for_a_fixed_split(tmp_path):
    with pytest.raises(StanceError) as err:
        build_dataset(_benchmark(tmp_path), tmp_path / "out")
    message = str(err.value)
    assert "under target 'policy 7'" in message
    assert "dataset.dedup.conflicts=keep" in message and "predefined" in message


def test_other_splits_are_offered_drop_and_majority(tmp_path):
    cfg = _benchmark(tmp_path)
    cfg.split.strategy = "grouped"
    with pytest.raises(StanceError) as err:
        build_dataset(cfg, tmp_path / "out")
    message = str(err.value)
    assert "under target 'policy 7'" in message and "conflicts=drop" in message
    assert "conflicts=keep" not in message


def test_keep_leaves_a_fixed_test_split_as_it_is_and_says_so(tmp_path):
    folder = build_dataset(_benchmark(tmp_path, "dataset.dedup.conflicts=keep"), tmp_path / "out")
    ds, card = load_processed(folder), read_card(folder)
    assert {"c0", "c1"} <= set(ds["test"]["id"])  # both labels stay in the benchmark's test
    assert "c2" in set(ds["train"]["id"])
    conflicts = card["dedup"]["conflicts"]
    assert conflicts["policy"] == "keep" and conflicts["groups"] == 1
    assert conflicts["rows_kept"] == 3 and card["rows"]["conflicts_dropped"] == 0
    assert card["rows"]["balanced"]
    assert "3 rows kept with their labels" in (folder / "card.md").read_text()
    assert card["leakage"]["texts_in_several_splits"] == 1  # still reported as leakage
