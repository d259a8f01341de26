"""build_dataset end to end on tiny corpora: splits, labels, card, formats, fingerprints."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest
from data_helpers import user_dataset
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from fixtures import export_rows, write
from stance.data import build as build_module
from stance.data import build_dataset, ensure_dataset, load_processed, read_card
from stance.data import card as cards
from stance.errors import StanceError


def _docs(ds, split):
    return set(ds[split]["doc_id"])


def test_grouped_split_keeps_documents_whole_and_card_adds_up(tmp_path):
    rows = export_rows()
    cfg = user_dataset(write(tmp_path / "in.csv", rows), "dataset.split.assign=shuffle")
    folder = build_dataset(cfg, tmp_path / "out")
    ds = load_processed(folder)
    card = read_card(folder)
    assert list(ds) == ["train", "validation", "test"]
    assert ds["train"].features["label"].names == ["anti", "pro"]
    assert not _docs(ds, "train") & _docs(ds, "validation")
    assert not _docs(ds, "train") & _docs(ds, "test")
    assert not _docs(ds, "validation") & _docs(ds, "test")
    assert card["leakage"]["documents_in_several_splits"] == 0
    assert card["leakage"]["texts_in_several_splits"] == 0
    neutral = sum(r["label"] == "neutral" for r in rows)
    assert card["rows"]["excluded_by_label"] == {"neutral": neutral}
    assert card["rows"]["kept"] == len(rows) - neutral == sum(len(ds[s]) for s in ds)
    assert card["rows"]["balanced"]
    for split in ds:
        names = ds[split].features["label"].names
        tally = Counter(names[i] for i in ds[split]["label"])
        assert card["counts"][split] == {
            "anti": tally["anti"],
            "pro": tally["pro"],
            "total": len(ds[split]),
        }
        assert card["documents"][split] == len(_docs(ds, split))
    assert set(ds["train"].column_names) == {
        "id",
        "text",
        "label",
        "doc_id",
        "target",
        "source",
        "date",
    }
    # ratios 0.8/0.1/0.1, cut by whole documents of up to 4 kept rows (two strata)
    for split, ratio in (("train", 0.8), ("validation", 0.1), ("test", 0.1)):
        assert abs(len(ds[split]) - ratio * card["rows"]["kept"]) <= 8
    card_md = (folder / "card.md").read_text()
    assert card_md.startswith("# Dataset `my_corpus`")
    c, docs = card["counts"]["train"], card["documents"]["train"]
    table = "| split | anti | pro | rows | documents |\n|---|---|---|---|---|\n"
    assert table + f"| train | {c['anti']} | {c['pro']} | {c['total']} | {docs} |\n" in card_md


def test_the_template_is_three_way(tmp_path):
    rows = export_rows()
    cfg = user_dataset(write(tmp_path / "in.csv", rows), labels=None)
    ds = load_processed(build_dataset(cfg, tmp_path))
    assert ds["train"].features["label"].names == ["anti", "neutral", "pro"]
    assert sum(len(ds[s]) for s in ds) == len(rows)


def test_a_binary_build_of_three_way_rows_warns_with_the_fix(tmp_path, capsys):
    rows = export_rows()
    cfg = user_dataset(write(tmp_path / "in.csv", rows))
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    (warning,) = [w for w in card["warnings"] if "left out because their label" in w]
    neutral = sum(r["label"] == "neutral" for r in rows)
    assert f"{neutral} of {len(rows)} rows" in warning and "'neutral' " in warning
    assert "dataset.labels=" in warning
    assert warning in capsys.readouterr().err
    assert warning in (tmp_path / "out" / "my_corpus" / "card.md").read_text()


def test_same_seed_same_splits_other_seed_other_splits(tmp_path):
    path = write(tmp_path / "in.csv", export_rows())
    first = read_card(build_dataset(user_dataset(path), tmp_path / "a"))
    again = read_card(build_dataset(user_dataset(path), tmp_path / "b"))
    other = read_card(build_dataset(user_dataset(path, "dataset.split.seed=1"), tmp_path / "c"))
    assert first["fingerprint"] == again["fingerprint"]
    assert first["fingerprint"] != other["fingerprint"]


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".parquet"])
def test_every_format_builds_the_same_dataset(tmp_path, suffix):
    rows = export_rows()
    reference = read_card(
        build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "csv")
    )
    other = read_card(
        build_dataset(user_dataset(write(tmp_path / f"in{suffix}", rows)), tmp_path / "other")
    )
    assert other["fingerprint"] == reference["fingerprint"]


def test_time_split_trains_on_the_past(tmp_path):
    cfg = user_dataset(write(tmp_path / "in.csv", export_rows()), "dataset.split.strategy=time")
    ds = load_processed(build_dataset(cfg, tmp_path / "out"))
    assert max(ds["train"]["date"]) < min(ds["validation"]["date"])
    assert max(ds["validation"]["date"]) < min(ds["test"]["date"])


def test_random_split_may_separate_a_documents_paragraphs(tmp_path):
    cfg = user_dataset(write(tmp_path / "in.csv", export_rows()), "dataset.split.strategy=random")
    folder = build_dataset(cfg, tmp_path / "out")
    assert read_card(folder)["leakage"]["documents_in_several_splits"] > 0


def test_predefined_split_follows_the_split_column(tmp_path):
    rows = export_rows(n_docs=10)
    for i, r in enumerate(rows):
        r["split"] = ("train", "val", "test", "train")[i % 4]
    path = write(tmp_path / "in.csv", rows)
    cfg = user_dataset(path, "dataset.split.strategy=predefined", "dataset.columns.split=split")
    ds = load_processed(build_dataset(cfg, tmp_path / "out"))
    expected = {r["id"] for r in rows if r["split"] == "val" and r["label"] != "neutral"}
    assert set(ds["validation"]["id"]) == expected


def test_ensure_dataset_rebuilds_only_when_config_or_input_change(tmp_path):
    rows = export_rows()
    path = write(tmp_path / "in.csv", rows)
    out = tmp_path / "out"
    ensure_dataset(user_dataset(path), out)
    (out / "my_corpus" / "card.json").write_text(
        json.dumps({**read_card(out / "my_corpus"), "built_at": "marker"})
    )
    ensure_dataset(user_dataset(path), out)
    assert read_card(out / "my_corpus")["built_at"] == "marker"  # loaded, not rebuilt
    ensure_dataset(user_dataset(path, "dataset.dedup.threshold=0.9"), out)
    assert read_card(out / "my_corpus")["built_at"] != "marker"
    rows[0]["text"] = "A completely new first paragraph about the budget."
    write(path, rows)
    ds = ensure_dataset(user_dataset(path, "dataset.dedup.threshold=0.9"), out)
    texts = {t for split in ds for t in ds[split]["text"]}
    assert "A completely new first paragraph about the budget." in texts


def test_a_failed_build_leaves_the_previous_dataset_loadable(tmp_path, monkeypatch):
    path = write(tmp_path / "in.csv", export_rows())
    out = tmp_path / "out"
    before = read_card(build_dataset(user_dataset(path), out))["fingerprint"]

    def crash(folder, card):
        raise KeyboardInterrupt

    monkeypatch.setattr(cards, "write_card", crash)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(user_dataset(path, "dataset.split.seed=5"), out)
    assert read_card(out / "my_corpus")["fingerprint"] == before
    assert len(load_processed(out / "my_corpus")["train"]) > 0
    assert [p.name for p in out.iterdir() if p.suffix != ".lock"] == ["my_corpus"]


def test_a_typo_in_the_dataset_config_fails_loudly(tmp_path):
    path = write(tmp_path / "in.csv", export_rows())
    with pytest.raises(ConfigCompositionException, match="stratgey"):
        user_dataset(path, "dataset.split.stratgey=random")
    # forced in with +, or held untyped by another top-level config: build_dataset still checks
    forced = user_dataset(path, "+dataset.split.stratgey=random")
    with pytest.raises(StanceError, match="stratgey"):
        build_dataset(forced, tmp_path / "out")
    cfg = OmegaConf.to_container(user_dataset(path))
    cfg["split"] = {"strategy": "randm"}
    with pytest.raises(StanceError, match=r"split\.strategy='randm' is not one of"):
        build_dataset(cfg, tmp_path / "out")


def test_jsonl_numbers_become_strings_and_dates_stay_dates(tmp_path):
    rows = export_rows()
    for k, r in enumerate(rows):
        r["id"] = k  # a JSON number
    folder = build_dataset(user_dataset(write(tmp_path / "in.jsonl", rows)), tmp_path / "out")
    ds = load_processed(folder)
    ids = {i for s in ds for i in ds[s]["id"]}
    assert ids == {str(k) for k, r in enumerate(rows) if r["label"] != "neutral"}
    assert {d for s in ds for d in ds[s]["date"]} <= {r["date"] for r in rows}


def test_dates_keep_their_day_and_blank_doc_ids_fall_back_to_the_row_id(tmp_path):
    rows = export_rows()
    rows[0]["date"] = f" {rows[0]['date']}T09:30:00 "  # a timestamp, padded: the day is kept
    rows[1]["doc_id"] = "  "  # no document: the paragraph is its own
    folder = build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "out")
    ds = load_processed(folder)
    built = {r["id"]: r for s in ds for r in ds[s]}
    expected = {r["id"]: r for r in export_rows() if r["label"] != "neutral"}
    assert built.keys() == expected.keys() and {rows[0]["id"], rows[1]["id"]} <= built.keys()
    assert {i: r["date"] for i, r in built.items()} == {i: r["date"] for i, r in expected.items()}
    doc = {i: r["doc_id"] for i, r in expected.items()} | {rows[1]["id"]: rows[1]["id"]}
    assert {i: r["doc_id"] for i, r in built.items()} == doc


def test_ensure_dataset_refuses_a_folder_rebuilt_with_other_settings(tmp_path, monkeypatch):
    path = write(tmp_path / "in.csv", export_rows())
    out = tmp_path / "out"
    binary = user_dataset(path)
    three_way = user_dataset(path, labels="[anti,neutral,pro]")
    real_load = build_module.load_processed

    def load_while_another_process_builds(folder):
        loaded = real_load(folder)
        build_dataset(three_way, out)  # the other process swaps its build in
        return loaded

    monkeypatch.setattr(build_module, "load_processed", load_while_another_process_builds)
    with pytest.raises(StanceError, match=r"give each variant its own dataset\.name"):
        ensure_dataset(binary, out)


def test_small_builds_save_without_progress_bars_and_restore_them(tmp_path, capsys):
    datasets.enable_progress_bars()
    build_dataset(user_dataset(write(tmp_path / "in.csv", export_rows())), tmp_path / "out")
    assert "Saving the dataset" not in capsys.readouterr().err
    assert not datasets.are_progress_bars_disabled()


def test_the_no_stance_label_is_declared_once_and_stored_in_the_card(tmp_path):
    rows = export_rows()
    names = {"pro": "Favor", "anti": "Against", "neutral": "None"}
    for row in rows:
        row["label"] = names[row["label"]]
    path = write(tmp_path / "in.csv", rows)
    labels = "dataset.labels=[Against,None,Favor]"
    cfg = user_dataset(path, labels, "dataset.label_map={}", "dataset.neutral_label=None")
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    assert card["neutral_label"] == "None" and card["labels"] == ["Against", "None", "Favor"]
    with pytest.raises(StanceError, match="neutral_label 'Neutral' is neither one of labels"):
        build_dataset(user_dataset(path, labels, "dataset.neutral_label=Neutral"), tmp_path / "o")


def test_kfold_folds_are_disjoint_by_document_and_cover_every_row_once(tmp_path):
    path = write(tmp_path / "in.csv", export_rows(n_docs=50))
    tests, docs = [], set()
    for k in range(5):
        cfg = user_dataset(path, "dataset.split.strategy=kfold", f"dataset.split.fold={k}")
        folder = build_dataset(cfg, tmp_path / "out")
        assert folder.name == f"my_corpus-fold{k}of5"
        ds = load_processed(folder)
        split_docs = {s: set(ds[s]["doc_id"]) for s in ds}
        assert not split_docs["train"] & split_docs["validation"]  # validation from train folds
        assert not (split_docs["train"] | split_docs["validation"]) & split_docs["test"]
        tests.append(list(ds["test"]["id"]))
        docs |= split_docs["test"]
        assert read_card(folder)["leakage"]["documents_in_several_splits"] == 0
    ids = [i for fold in tests for i in fold]
    assert len(ids) == len(set(ids)) == read_card(folder)["rows"]["kept"]  # each row once
    assert all(len(fold) > 0 for fold in tests)
    with pytest.raises(StanceError, match=r"split\.fold=5 is not one of the 5 folds"):
        build_dataset(
            user_dataset(path, "dataset.split.strategy=kfold", "dataset.split.fold=5"), tmp_path
        )


def test_by_target_holds_out_whole_targets(tmp_path):
    rows = export_rows(n_docs=60)
    for row in rows:
        row["target"] = f"policy {int(row['doc_id'][1:]) % 12}"
    folder = build_dataset(
        user_dataset(write(tmp_path / "in.csv", rows), "dataset.split.strategy=by_target"),
        tmp_path / "out",
    )
    ds = load_processed(folder)
    targets = {s: set(ds[s]["target"]) for s in ds}
    assert all(targets[s] for s in ds)  # every split has targets of its own
    assert not targets["train"] & targets["test"] and not targets["train"] & targets["validation"]
    assert not targets["validation"] & targets["test"]
    assert read_card(folder)["leakage"]["documents_in_several_splits"] == 0
    with pytest.raises(StanceError, match="by_target needs a target column"):
        cfg = user_dataset(tmp_path / "in.csv", "dataset.split.strategy=by_target")
        cfg.columns.target = None
        build_dataset(cfg, tmp_path / "o2")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_fresh_build_is_current_for_its_own_input(tmp_path, suffix):
    """The build records the same input hash that `is_current` computes from the file."""
    from stance.data import is_current

    cfg = user_dataset(write(tmp_path / f"in{suffix}", export_rows()))
    build_dataset(cfg, tmp_path / "out")
    assert is_current(cfg, tmp_path / "out")
