"""Exact duplicates after normalisation, label conflicts, near-duplicates."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import user_dataset

from fixtures import export_rows, sentence, write
from stance.data import build_dataset, load_processed, read_card
from stance.data.dedup import first_equal, near_pairs, normalized, word_bigrams
from stance.data.schema import DedupConfig
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
    norm = normalized(pa.chunked_array([pa.array([*VARIANTS, "Café policy is bad."])]))
    assert set(norm.to_pylist()[:-1]) == {"café policy is good for the border towns."}
    assert first_equal(norm).tolist() == [0, 0, 0, 0, 4]


def test_exact_duplicates_collapse_to_the_first_copy(tmp_path):
    rows = _with(export_rows(), [(f"dup{k}", v, "pro") for k, v in enumerate(VARIANTS)])
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
    rows = _with(export_rows(), [("c0", text, "pro"), ("c1", text, "pro"), ("c2", text, "anti")])
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
        write(tmp_path / "in.csv", _with(export_rows(), extra)), "dataset.dedup.conflicts=majority"
    )
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    assert card["dedup"]["conflicts"]["groups"] == 20
    assert card["leakage"]["texts_in_several_splits"] == 0


def test_conflicting_labels_stop_the_build_by_default(tmp_path):
    text = "The tariff deal is a win for farmers in the valley."
    rows = _with(export_rows(), [("c0", text, "pro"), ("c1", text.upper(), "anti")])
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path), tmp_path / "out")
    n = len(export_rows())
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
    rows = _with(export_rows(), _syndicated())
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
    rows = _with(export_rows(), _syndicated())
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
    rows = _with(export_rows(), _syndicated())
    cfg = user_dataset(write(tmp_path / "in.csv", rows), "dataset.dedup.threshold=0.95")
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    # one changed word in 60 removes 2 of ~60 word pairs and adds 2: Jaccard ~0.93
    assert card["dedup"]["near"]["pairs"] == 0


def test_word_bigrams_are_pairs_of_whole_words_ignoring_case_and_punctuation():
    texts = ["The tariff, the DEAL.", "the tariff the deal", "@tariff `tariff", "one"]
    grams, bounds = word_bigrams(normalized(pa.array(texts)))
    rows = [set(grams[bounds[i] : bounds[i + 1]].tolist()) for i in range(len(texts))]
    assert len(rows[0]) == 3 and rows[0] == rows[1]  # the tariff / tariff the / the deal
    assert len(rows[2]) == 1  # "@" and "`" are not letters: the two words are equal
    assert rows[3] == set()  # one word has no bigram
    assert bounds.tolist()[-1] == len(grams)


def _brute_force(texts: list[str], threshold: float) -> set[tuple[int, int]]:
    sets = []
    for t in texts:
        words = t.lower().replace(".", " ").split()
        sets.append(set(pairwise(words)))
    return {
        (i, j)
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold
    }


def test_lsh_finds_the_pairs_that_the_exact_jaccard_finds():
    # copies with 1-6 words changed out of 40 span Jaccard ~0.6-0.95 around the threshold
    rng = random.Random(11)
    texts = []
    for _ in range(60):
        words = sentence(rng, 40).rstrip(".").split()
        texts.append(" ".join(words))
        for _ in range(2):
            copy = list(words)
            for k in rng.sample(range(40), rng.randint(1, 6)):
                copy[k] = "edited"
            texts.append(" ".join(copy))
    truth = _brute_force(texts, 0.7)
    a, b, jac = near_pairs(normalized(pa.array(texts)), np.ones(len(texts), bool), DedupConfig())
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    assert found <= truth and (jac >= 0.7).all()  # exact Jaccard decides: no false pair
    assert len(truth) > 60 and len(found) >= 0.97 * len(truth)  # LSH misses ~1% at 0.7


def test_the_same_text_under_two_targets_is_two_examples_kept_in_one_split(tmp_path):
    # a claim-stance export: one claim pro one motion and anti another
    rng = random.Random(2)
    extra, rows = [], export_rows()
    for k in range(12):
        text = sentence(rng)
        extra += [(f"m{k}a", text, "pro"), (f"m{k}b", text, "anti")]
    rows = _with(rows, extra)
    for k, row in enumerate(rows[-len(extra) :]):
        row["target"] = f"motion {k % 2}"
    folder = build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "out")
    card, ds = read_card(folder), load_processed(folder)
    split_of = {d: s for s in ds for d in ds[s]["doc_id"]}
    assert all(split_of[f"m{k}a"] == split_of[f"m{k}b"] for k in range(12))
    assert card["rows"]["duplicates_merged"] == 0 and card["dedup"]["conflicts"]["groups"] == 0
    assert card["dedup"]["exact"]["texts_under_several_targets"] == 12
    assert card["leakage"]["texts_in_several_splits"] == 0


def test_within_one_target_the_same_text_is_still_a_duplicate_or_a_conflict(tmp_path):
    text = "The tariff deal is a win for farmers in the valley."
    rows = _with(export_rows(), [("c0", text, "pro"), ("c1", text, "pro"), ("c2", text, "anti")])
    for row in rows[-3:]:
        row["target"] = "motion 0"
    rows[-1]["target"] = "motion 1"  # c2 is about another motion: no conflict with c0/c1
    card = read_card(build_dataset(user_dataset(write(tmp_path / "in.csv", rows)), tmp_path / "o"))
    assert card["rows"]["duplicates_merged"] == 1
    rows[-1]["target"] = "motion 0"
    with pytest.raises(StanceError, match=r"the same text .* has different labels"):
        build_dataset(user_dataset(write(tmp_path / "in2.csv", rows)), tmp_path / "o2")


def test_first_equal_points_every_row_at_the_first_row_with_its_value():
    rng = random.Random(4)
    values = [rng.choice("abcdefgh") for _ in range(500)]
    first: dict[str, int] = {}
    expected = [first.setdefault(v, i) for i, v in enumerate(values)]
    assert first_equal(pa.array(values)).tolist() == expected
