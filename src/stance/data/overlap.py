"""What a model was trained on, and how much of an evaluated split it has already seen.

A model folder keeps `training_data.json`: the dataset's name, fingerprint and split settings, and a
hash of the normalised text (as exact dedup compares it) of every train and validation row.
Evaluation compares the evaluated rows' hashes with those before it scores anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from stance.data.dedup import normalized
from stance.data.label_words import label_words

RECORD_FILE = "training_data.json"
SEEN_SPLITS = ("train", "validation")


def text_hashes(texts: Sequence[str]) -> list[str]:
    """A 64-bit hash (hex) of each text's normalised form: equal after dedup's normalisation."""
    norm = normalized(pa.array(list(texts), pa.string())).to_pylist()
    return [hashlib.blake2b(t.encode(), digest_size=8).hexdigest() for t in norm]


def _labels(dataset: dict, card: dict) -> list[str]:
    """The dataset's labels: the card's, else the train split's (a dataset built in memory)."""
    if card.get("labels"):
        return list(card["labels"])
    return list(dataset["train"].features["label"].names) if "train" in dataset else []


def training_record(dataset: dict, card: dict) -> dict:
    """The record of what a model is trained on: `dataset` maps split -> rows with a `text`."""
    return {
        "dataset": card.get("name"),
        "fingerprint": card.get("fingerprint"),
        "split": card.get("split"),
        "neutral_label": card.get("neutral_label"),
        # what the dataset's sheets call each label (stance.data.label_words)
        "label_words": label_words(
            _labels(dataset, card), (card.get("config") or {}).get("label_map")
        ),
        "rows": {s: text_hashes(dataset[s]["text"]) for s in SEEN_SPLITS if s in dataset},
    }


def write_record(folder: str | Path, record: dict) -> None:
    """Write `training_data.json` into a model folder."""
    (Path(folder) / RECORD_FILE).write_text(json.dumps(record) + "\n")


def read_record(folder: str | Path) -> dict | None:
    """The model folder's training record, or None for a model saved without one."""
    path = Path(folder) / RECORD_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def seen_rows(record: dict, texts: Sequence[str], split: str) -> np.ndarray:
    """Per text of `split`: True when the model trained (or early-stopped) on the same text.

    A validation split may share rows with the model's own validation rows (that is what they are
    for); a test split may share none.
    """
    compared = ("train",) if split == "validation" else SEEN_SPLITS
    seen = {h for s in compared for h in record["rows"].get(s, [])}
    return np.array([h in seen for h in text_hashes(texts)], dtype=bool)


def why_seen(record: dict, card: dict) -> str:
    """The likeliest reason an evaluated split overlaps the model's training rows."""
    if record.get("dataset") != card.get("name"):
        return f"the model was trained on dataset {record.get('dataset')!r}, which shares texts"
    if record.get("fingerprint") == card.get("fingerprint"):
        return "the split overlaps the model's own training rows"
    ours, theirs = record.get("split") or {}, card.get("split") or {}
    keys = ("strategy", "seed", "ratios", "stratify", "validation_from_train")
    changed = [k for k in keys if ours.get(k) != theirs.get(k)]
    if changed:
        return f"the split {', '.join(changed)} differs from training ({ours.get(changed[0])!r})"
    return "the dataset was rebuilt from other input since training"
