"""Exact duplicates after normalisation, label conflicts, near-duplicates."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import corpus, sentence, user_dataset, write

from stance.data import build_dataset, load_processed, parallel, read_card
from stance.data import shingles as shingles_module
from stance.data.shingles import normalize, shingles
from stance.errors import StanceError

VARIANTS = [
    "Café policy is good for the border towns.",
    "CAFÉ  policy is good for the border towns.",
    " café\tpolicy is good\nfor the border towns. ",
    "ｃａｆé policy is good for the border towns.",  # fullwidth letters: NFKC makes them ASCII
]


def _with(rows: list[dict], extra: list[tuple[str, str, str]]) -> list[dict]:
    """`rows` plus extra (doc_id, text, label) rows, each in its own document."""
    out = list(rows)
    for k, (doc, text, label) in enumerate(extra):
        out.append({**rows[0], "id": f"x{k}", "doc_id": doc, "text": text, "label": label})
    return out


def test_normalised_variants_share_a_key_and_a_normal_form():
    keys = shingles(pa.chunked_array([pa.array(VARIANTS)])).key
    assert len(set(keys.tolist())) == 1
    assert {normalize(v) for v in VARIANTS} == {"café policy is good for the border towns."}


def test_exact_duplicates_collapse_to_the_first_copy(tmp_path):
    rows = _with(corpus(), [(f"dup{k}", v, "pro") for k, v in enumerate(VARIANTS)])
    folder = build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "out")
    card = read_card(folder)
    ds = load_processed(folder)
    ids = [i for split in ds for i in ds[split]["id"]]
    assert "x0" in ids and not {"x1", "x2", "x3"} & set(ids)
    assert card["rows"]["duplicates_merged"] == 3
    assert card["dedup"]["exact"]["groups"] == 1
    assert card["rows"]["balanced"]


@pytest.mark.parametrize(
    ("policy", "kept", "dropped"), [("drop", set(), 3), ("majority", {"x0"}, 0)]
)
def test_conflicting_labels_follow_the_policy(tmp_path, policy, kept, dropped):
    text = "The tariff deal is a win for farmers in the valley."
    rows = _with(corpus(), [("c0", text, "pro"), ("c1", text, "pro"), ("c2", text, "anti")])
    cfg = user_dataset(write(tmp_path / "in.csv", rows), f"dataset.dedup.conflicts={policy}")
    folder = build_dataset(cfg, tmp_path / "out")
    ds = load_processed(folder)
    ids = {i for split in ds for i in ds[split]["id"]}
    assert ids & {"x0", "x1", "x2"} == kept
    assert read_card(folder)["rows"]["conflicts_dropped"] == dropped
    assert read_card(folder)["rows"]["balanced"]


def test_a_majority_winner_behind_its_group_head_keeps_its_own_text_identity(tmp_path):
    # the majority's first row (b) comes after the group's first row (a, dropped): the leakage
    # report must still count b's text as its own, not as the kept row before a (u)
    rng = random.Random(3)
    extra = []
    for k in range(20):
        text = sentence(rng)
        extra += [(f"u{k}", sentence(rng), "pro"), (f"a{k}", text, "anti")]
        extra += [(f"b{k}", text, "pro"), (f"c{k}", text, "pro")]
    cfg = user_dataset(
        write(tmp_path / "in.csv", _with(corpus(), extra)), "dataset.dedup.conflicts=majority"
    )
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    assert card["dedup"]["conflicts"]["groups"] == 20
    assert card["leakage"]["texts_in_several_splits"] == 0


def test_conflicting_labels_stop_the_build_by_default(tmp_path):
    text = "The tariff deal is a win for farmers in the valley."
    rows = _with(corpus(), [("c0", text, "pro"), ("c1", text.upper(), "anti")])
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    n = len(corpus())
    message = str(err.value)
    assert f"{path}, line {n + 2} (pro)" in message and f"line {n + 3} (anti)" in message
    assert "dedup.conflicts" in message


def _syndicated(n_pairs: int = 10) -> list[tuple[str, str, str]]:
    """Pairs of documents whose paragraph differs by one word (a syndicated copy)."""
    rng = random.Random(7)
    extra = []
    for k in range(n_pairs):
        words = (sentence(rng, 30) + " " + sentence(rng, 30)).split()
        copy = [*words[:20], "edited", *words[21:]]
        extra += [(f"orig{k}", " ".join(words), "pro"), (f"copy{k}", " ".join(copy), "pro")]
    return extra


def test_near_duplicates_land_in_the_same_split(tmp_path):
    rows = _with(corpus(), _syndicated())
    path = write(tmp_path / "in.csv", rows)
    folder = build_dataset(user_dataset(path), tmp_path / "out")
    ds = load_processed(folder)
    split_of = {d: s for s in ds for d in ds[s]["doc_id"]}
    assert all(split_of[f"orig{k}"] == split_of[f"copy{k}"] for k in range(10))
    card = read_card(folder)
    assert card["dedup"]["near"]["pairs"] == 10
    assert card["leakage"]["near_duplicate_pairs_across_splits"] == 0
    # the same corpus with near-duplicates only reported: seed 0 puts some pairs apart
    report = build_dataset(user_dataset(path, "dataset.dedup.action=report"), tmp_path / "r")
    assert read_card(report)["leakage"]["near_duplicate_pairs_across_splits"] > 0


def test_near_duplicates_can_be_dropped(tmp_path):
    rows = _with(corpus(), _syndicated())
    cfg = user_dataset(write(tmp_path / "in.csv", rows), "dataset.dedup.action=drop")
    folder = build_dataset(cfg, tmp_path / "out")
    card = read_card(folder)
    ds = load_processed(folder)
    docs = {d for s in ds for d in ds[s]["doc_id"]}
    assert {f"orig{k}" for k in range(10)} <= docs
    assert not {f"copy{k}" for k in range(10)} & docs
    assert card["rows"]["near_duplicates_dropped"] == 10
    assert card["rows"]["balanced"]


def test_a_higher_threshold_ignores_looser_copies(tmp_path):
    rows = _with(corpus(), _syndicated())
    cfg = user_dataset(write(tmp_path / "in.csv", rows), "dataset.dedup.threshold=0.95")
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    # one changed word in 60 removes 2 of ~60 word pairs and adds 2: Jaccard ~0.93
    assert card["dedup"]["near"]["pairs"] == 0


def test_sampled_shingles_still_find_the_copies(tmp_path, monkeypatch):
    # large inputs only let 1 in 4 shingles propose candidates; force that path on tiny data
    monkeypatch.setattr(shingles_module, "SAMPLE_ROWS", 0)
    rows = _with(corpus(), _syndicated())
    card = read_card(build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "o"))
    assert card["dedup"]["near"]["pairs"] == 10


@pytest.mark.parametrize("threads", [1, 3])
def test_shingles_of_masked_rows_match_those_of_the_rows_alone(monkeypatch, threads):
    # the threaded path cuts the rows into pieces (also mid-chunk) and gives each thread a run
    # of them; keys, sample and kept text must not depend on that
    monkeypatch.setattr(shingles_module, "SAMPLE_ROWS", 0)
    monkeypatch.setattr(shingles_module, "_PIECE", 8)  # cut chunks mid-way too
    monkeypatch.setattr(parallel, "MAX_WORKERS", threads)
    rng = random.Random(5)
    rows = [sentence(rng, rng.randint(0, 12)) for _ in range(90)] + VARIANTS
    texts = pa.chunked_array([pa.array(rows[:37]), pa.array(rows[37:60]), pa.array(rows[60:])])
    mask = np.array([rng.random() < 0.6 for _ in rows])
    kept = [r for r, m in zip(rows, mask, strict=True) if m]
    alone = shingles(pa.chunked_array([pa.array(kept)]))
    masked = shingles(texts, mask)
    assert masked.text(np.arange(len(kept))).to_pylist() == kept
    assert masked.key.tolist() == alone.key.tolist()
    assert masked.sample.tolist() == alone.sample.tolist()
    assert len(set(masked.key.tolist())) > len(kept) // 2  # the rows do differ
