"""The released demo corpus meets the issue's constraints and its data card matches the files."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from stance.labelling.annotation import read_jsonl  # also registers the annotation_agreement schema
from train_helpers import compose_cfg

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"id", "doc_id", "paragraph_index", "text", "label", "target", "source", "date", "register"}


@pytest.fixture(scope="module")
def cfg():
    """The paths and labels of configs/annotation_agreement.yaml, relative to the repo root."""
    return compose_cfg("annotation_agreement", [])


def lines(path: str) -> list[dict]:
    return read_jsonl(ROOT / path)


@pytest.fixture(scope="module")
def rows(cfg) -> list[dict]:
    return lines(cfg.corpus)


@pytest.fixture(scope="module")
def readme(cfg) -> str:
    return (ROOT / cfg.readme).read_text(encoding="utf-8")


def test_keys_ids_and_paragraph_indices(rows: list[dict]) -> None:
    assert all(set(row) == KEYS for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    by_doc = defaultdict(list)
    for row in rows:
        by_doc[row["doc_id"]].append(row["paragraph_index"])
    assert all(idx == list(range(len(idx))) for idx in by_doc.values())  # contiguous, in order
    assert [(r["doc_id"], r["paragraph_index"]) for r in rows] == sorted(
        (r["doc_id"], r["paragraph_index"]) for r in rows
    )
    assert all(row["text"].strip() for row in rows)


def test_size_targets_and_label_balance(rows: list[dict], cfg) -> None:
    assert len(rows) >= 600
    docs = Counter(row["doc_id"] for row in rows)
    assert len(docs) >= 80
    assert all(3 <= n <= 15 for n in docs.values())
    assert {row["label"] for row in rows} == set(cfg.labels)
    by_target = defaultdict(set)
    for row in rows:
        by_target[row["target"]].add(row["label"])
    assert len(by_target) >= 15
    assert all({"pro", "anti"} <= labels for labels in by_target.values())
    neutral_share = sum(row["label"] == "neutral" for row in rows) / len(rows)
    assert 0.25 <= neutral_share <= 0.334


def test_dates_span_2015_to_2025_with_every_year(rows: list[dict]) -> None:
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]) for row in rows)
    assert {int(row["date"][:4]) for row in rows} == set(range(2015, 2026))


def generated_block(readme: str, name: str) -> str:
    return readme.split(f"<!-- BEGIN {name} -->")[1].split(f"<!-- END {name} -->")[0]


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """{title: rows incl. header} for each `**title**` followed by a Markdown table."""
    tables: dict[str, list[list[str]]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("**") and line.endswith("**"):
            title = line.strip("*")
            tables[title] = []
        elif line.startswith("|") and not line.startswith("|---") and title is not None:
            tables[title].append([cell.strip() for cell in line.strip("|").split("|")])
    return tables


def test_readme_count_tables_match_the_corpus(rows: list[dict], readme: str, cfg) -> None:
    block = generated_block(readme, "corpus-tables")
    sizes = Counter(row["doc_id"] for row in rows).values()
    dates = sorted(row["date"] for row in rows)
    assert (
        f"{len(rows)} paragraphs in {len(sizes)} documents ({min(sizes)}-{max(sizes)} paragraphs"
        in block
    )
    assert f"dated {dates[0]} to {dates[-1]}." in block
    tables = markdown_tables(block)
    labels = list(cfg.labels)
    label_counts = Counter(row["label"] for row in rows)
    assert {r[0]: int(r[1]) for r in tables["Label"][1:]} == {**label_counts, "total": len(rows)}
    keys = {
        "Topic (target) x label": "target",
        "Register x label": "register",
        "Year x label": "year",
    }
    assert set(tables) == {"Label", *keys}
    for title, key in keys.items():
        header, *body = tables[title]
        assert header == [key, *labels, "total"]
        expected = Counter(
            (row["date"][:4] if key == "year" else row[key], row["label"]) for row in rows
        )
        values = {row["date"][:4] if key == "year" else row[key] for row in rows}
        assert {r[0] for r in body} == values | {"total"}
        for r in body:
            counts = [int(c) for c in r[1:]]
            if r[0] == "total":
                assert counts == [label_counts[x] for x in labels] + [len(rows)]
            else:
                assert counts[:-1] == [expected[(r[0], x)] for x in labels]
                assert counts[-1] == sum(counts[:-1])


def test_readme_kappa_and_confusion_match_the_passes(readme: str, cfg) -> None:
    first = {r["id"]: r["label"] for r in lines(cfg.first_pass)}
    second = {r["id"]: r["label"] for r in lines(cfg.second_pass)}
    ids = sorted(second)
    a, b = [first[i] for i in ids], [second[i] for i in ids]
    block = generated_block(readme, "agreement")
    kappa = float(re.search(r"Cohen's kappa \*\*([0-9.]+)\*\*", block).group(1))
    assert kappa == pytest.approx(cohen_kappa_score(a, b), abs=5e-4)
    assert f"Blind second pass on {len(ids)} paragraphs" in block
    confusion = Counter(zip(a, b, strict=True))
    table = [line for line in block.splitlines() if line.startswith("| ")][1:]
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in cfg.labels:
            assert [int(c) for c in cells[1:-1]] == [confusion[(cells[0], x)] for x in cfg.labels]


def test_second_pass_covers_a_fifth_and_adjudication_is_applied(rows: list[dict], cfg) -> None:
    released = {row["id"]: row["label"] for row in rows}
    first = {r["id"]: r["label"] for r in lines(cfg.first_pass)}
    second = {r["id"]: r["label"] for r in lines(cfg.second_pass)}
    adjudicated = {r["id"]: r for r in lines(cfg.adjudication)}
    assert set(first) == set(released)
    assert set(second) <= set(released) and len(second) >= 0.2 * len(released)
    assert set(adjudicated) == {i for i in second if second[i] != first[i]}
    for i, label in released.items():
        expected = adjudicated[i]["final"] if i in adjudicated else first[i]
        assert label == expected, i
    assert all(r["first"] == first[i] and r["second"] == second[i] for i, r in adjudicated.items())
    assert all(r["reason"].strip() for r in adjudicated.values())
