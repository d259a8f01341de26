"""Raw articles + label sheet, the demo article set, and the TweetEval stance benchmark."""

from __future__ import annotations

import csv
import json
import unicodedata
from collections import Counter

import pytest
from data_helpers import CONFIGS, TWEETEVAL, compose_build

from stance.data import build_dataset, load_processed, read_card

ARTICLE = (
    "Photo: Farmers at a market in Iowa\n"
    "Farmers in Iowa said the new tariffs on soybeans would cost them\n"
    "dearly this season.\n"
    "\n"
    "The administration argued that the tariffs were a necessary step to\n"
    "force a better trade deal.\n"
)


def _articles(tmp_path, sheet_rows: str, *overrides: str):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "A1.txt").write_text(ARTICLE)
    (folder / "A2.txt").write_text("A short article.\n\nWith a second paragraph.\n")
    sheet = tmp_path / "labels.csv"
    sheet.write_text("doc_id,paragraph_index,label,target\n" + sheet_rows)
    cfg = compose_build(
        "demo_articles",
        f"dataset.path={folder}",
        f"dataset.label_sheet={sheet}",
        "dataset.columns.source=null",
        "dataset.columns.date=null",
        "dataset.split.strategy=random",
        "dataset.split.ratios={train:0.5,validation:0.25,test:0.25}",
        *overrides,
    ).dataset
    return build_dataset(cfg, tmp_path / "out")


def test_label_sheet_rows_pick_paragraphs_by_index(tmp_path):
    folder = _articles(
        tmp_path,
        "A1,1,anti,tariffs\nA1,2,pro,tariffs\nA2,0,anti,x\nA2,1,neutral,x\n",
    )
    ds = load_processed(folder)
    rows = {i: t for s in ds for i, t in zip(ds[s]["id"], ds[s]["text"], strict=True)}
    assert rows == {
        "A1-p1": "Farmers in Iowa said the new tariffs on soybeans would cost them dearly this "
        "season.",
        "A1-p2": "The administration argued that the tariffs were a necessary step to force a "
        "better trade deal.",
        "A2-p0": "A short article.",
    }
    card = read_card(folder)
    # A1 has 3 paragraphs (caption, two texts), A2 has 2: 5, of which 4 are in the sheet
    assert card["source"] == {"articles": 2, "paragraphs": 5, "unlabeled_paragraphs": 1}
    assert card["rows"]["input"] == 4
    assert card["rows"]["excluded_by_label"] == {"neutral": 1}
    assert card["rows"]["balanced"]


def test_demo_articles_build_with_whole_documents_per_split(tmp_path):
    cfg = compose_build("demo_articles").dataset
    folder = build_dataset(cfg, tmp_path)
    ds = load_processed(folder)
    card = read_card(folder)
    docs = [set(ds[s]["doc_id"]) for s in ds]
    assert not (docs[0] & docs[1] or docs[0] & docs[2] or docs[1] & docs[2])
    with (CONFIGS.parent / cfg.label_sheet).open() as fh:
        sheet = Counter(r["label"] for r in csv.DictReader(fh))
    assert card["rows"]["input"] == sum(sheet.values())
    assert card["rows"]["excluded_by_label"] == {"neutral": sheet["neutral"]}
    for label in ("anti", "pro"):
        assert sum(card["counts"][s][label] for s in ds) == sheet[label]


@pytest.fixture
def tweeteval():
    if not TWEETEVAL.is_dir():
        pytest.skip(f"{TWEETEVAL} is absent (the shared TweetEval copy)")
    return TWEETEVAL


def test_tweeteval_counts_match_the_files(tmp_path, tweeteval):
    cfg = compose_build("tweeteval_stance", f"dataset.path={tweeteval}").dataset
    folder = build_dataset(cfg, tmp_path)
    card = read_card(folder)
    ds = load_processed(folder)
    # sizes from the benchmark's README
    assert {s: card["counts"][s]["total"] for s in ds} == {
        "train": 2620,
        "validation": 294,
        "test": 1249,
    }
    names = {"0": "neutral", "1": "anti", "2": "pro"}  # mapping.txt: 0 none, 1 against, 2 favor
    for split, stem in (("train", "train"), ("validation", "val"), ("test", "test")):
        tally = Counter()
        for target in tweeteval.iterdir():
            if target.is_dir():
                tally.update(names[x] for x in (target / f"{stem}_labels.txt").read_text().split())
        assert {k: v for k, v in card["counts"][split].items() if k != "total"} == tally
    assert ds["train"].features["label"].names == ["anti", "neutral", "pro"]
    assert set(ds["test"]["target"]) == {
        "Legalization of Abortion",
        "Atheism",
        "Climate Change is a Real Concern",
        "Feminist Movement",
        "Hillary Clinton",
    }
    # the benchmark is fixed: nothing merged, dropped or moved, duplicates only reported
    assert card["rows"]["kept"] == card["rows"]["input"] == 4163
    assert card["dedup"]["exact"]["mode"] == "report"


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@pytest.mark.parametrize("labels", [["anti", "pro"], ["anti", "neutral", "pro"]])
def test_the_demo_corpus_builds_grouped_with_counts_matching_the_file(tmp_path, labels):
    overrides = ["dataset.labels=[anti,pro]"] if len(labels) == 2 else []
    cfg = compose_build("demo", *overrides).dataset
    folder = build_dataset(cfg, tmp_path)
    ds = load_processed(folder)
    card = read_card(folder)
    lines = [json.loads(x) for x in (CONFIGS.parent / cfg.path).read_text().splitlines() if x]
    assert ds["train"].features["label"].names == labels
    docs = [set(ds[s]["doc_id"]) for s in ds]
    assert not (docs[0] & docs[1] or docs[0] & docs[2] or docs[1] & docs[2])
    assert card["leakage"]["documents_in_several_splits"] == 0
    assert card["leakage"]["texts_in_several_splits"] == 0
    assert card["rows"]["input"] == len(lines)
    excluded = sum(r["label"] not in labels for r in lines)
    assert sum(card["rows"]["excluded_by_label"].values()) == excluded
    for label in labels:
        distinct = {_normal(r["text"]) for r in lines if r["label"] == label}
        assert sum(card["counts"][s][label] for s in ds) == len(distinct)
    assert card["rows"]["balanced"]
