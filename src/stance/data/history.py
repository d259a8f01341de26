"""What a rebuild changed against the build it replaces, and what a build should warn about.

`previous` reads the folder about to be replaced (its card and every document's split), so the new
card can record the previous fingerprint and round and which documents moved between splits: with
`split.assign=hash` none should (a document's split depends on its id and the seed alone); under
`assign=shuffle`, or when a new near-duplicate joins two documents, some may, and the card says so.

`warnings` are the build's own: rows excluded by label (a 3-way export read with a binary label
set), labels missing from a split, splits too small to score. They go into the card and the build's
output, each with its fix.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import pyarrow as pa

from stance.advice import SMALL_SPLIT, kfold_command, small_split
from stance.data import card as cards
from stance.data.schema import SPLITS
from stance.errors import StanceError

EXCLUDED_WARN = 0.05  # share of the rows excluded by label above which the build warns
BLANK_DOC_WARN = 0.5  # share of the kept rows without a doc_id (when one is mapped): warn
EXAMPLES = 10


def previous(folder: Path) -> tuple[dict | None, dict[str, str]]:
    """The card of the build in `folder` (None when there is none) and its document -> split."""
    try:
        card = cards.read_card(folder)
        built = datasets.load_from_disk(str(folder))
    except (StanceError, OSError, ValueError, FileNotFoundError):
        return None, {}
    where = {}
    for split in SPLITS:
        if split in built:
            where.update(dict.fromkeys(built[split].unique("doc_id"), split))
    return card, where


def changes(old_card: dict | None, old_where: dict[str, str], splits: dict[str, pa.Table]) -> dict:
    """The card's `previous` entry: the old fingerprint and round, documents added and moved."""
    if old_card is None:
        return {"fingerprint": None}
    moved, added = [], 0
    for split, table in splits.items():
        for doc in set(table["doc_id"].to_pylist()):
            before = old_where.get(doc)
            if before is None:
                added += 1
            elif before != split:
                moved.append({"doc_id": doc, "from": before, "to": split})
    return {
        "fingerprint": old_card.get("fingerprint"),
        "built_at": old_card.get("built_at"),
        "round": (old_card.get("round") or {}).get("name"),
        "documents_added": added,
        "documents_moved": len(moved),
        "moved_examples": moved[:EXAMPLES],
    }


def warnings(card: dict, name: str) -> list[str]:
    """Sentences (with the fix) about excluded labels, empty labels and small splits."""
    out = []
    rows = card["rows"]
    excluded = rows["excluded_by_label"]
    n = max(rows["input"], 1)
    if sum(excluded.values()) > EXCLUDED_WARN * n:
        listed = ", ".join(f"{k!r} {v}" for k, v in excluded.items())
        out.append(
            f"{sum(excluded.values())} of {rows['input']} rows ({sum(excluded.values()) / n:.0%}) "
            f"were left out because their label is not in dataset.labels {card['labels']} "
            f"({listed}); to keep them add the label: 'dataset.labels=[...]' (e.g. 3-way "
            "[anti,neutral,pro])"
        )
    no_doc = rows["blank"].get("doc_id", 0)  # counted only where a doc_id column is mapped
    if no_doc > BLANK_DOC_WARN * max(rows["kept"], 1):
        out.append(
            f"{no_doc} of the {rows['input']} rows read have no doc_id, so each is a document of "
            "its own and an article's paragraphs can land in different splits; if the id is "
            "written only on an article's first row, fill it down to every row of the article"
        )
    counts = card["counts"]
    for label in card["labels"]:
        if not sum(counts[s][label] for s in SPLITS):
            out.append(
                f"label {label!r} has no row at all: check dataset.label_map maps your raw "
                "labels to it, or drop it from dataset.labels"
            )
    if card["split"]["strategy"] in ("predefined", "time", "grouped", "random", "by_target"):
        out += _split_warnings(counts, card["labels"], name)
    moved = (card.get("previous") or {}).get("documents_moved")
    if moved:
        out.append(
            f"{moved} documents changed split since the previous build: scores of the two builds "
            "are not comparable; dataset.split.assign=hash keeps documents in place"
        )
    return out


def _split_warnings(counts: dict, labels: list[str], name: str) -> list[str]:
    out = []
    for split in ("validation", "test"):
        total = counts[split]["total"]
        missing = [lab for lab in labels if total and not counts[split][lab]]
        if 0 < total < SMALL_SPLIT:
            out.append(small_split(split, total, f"use cross-validation ({kfold_command(name)})"))
        if missing:
            out.append(f"the {split} split has no {', '.join(map(repr, missing))} row")
    return out
