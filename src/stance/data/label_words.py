"""The dataset's own label words: what a label is called in the user's sheets (``label_map``).

A label is written in the one raw word ``label_map`` maps to it (``Support: pro`` -> ``pro`` is
written "Support"); spellings that differ only in case or spaces count as one word, and the first
one written is kept. A label with no raw word, or with synonyms (``against: anti``, ``oppose:
anti``: the sheets may use either), keeps its own name. Training keeps the words in the model
folder (``training_data.json``, ``label_words``), predict.py writes its labels in them, and
suggest.py's Label Studio config offers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_CHARS = 64  # a label word is a word or two, not a text


def label_words(labels: Sequence[str], label_map: Mapping[str, str] | None) -> dict[str, str]:
    """Label -> the user's word for it, for every label in ``labels``."""
    spellings: dict[str, dict[str, str]] = {label: {} for label in labels}
    for raw, label in (label_map or {}).items():
        if label in spellings:
            spellings[label].setdefault(str(raw).strip().lower(), str(raw).strip())
    return {
        label: next(iter(words.values())) if len(words) == 1 else label
        for label, words in spellings.items()
    }


def words_problem(words: Any, classes: Sequence[str]) -> str | None:
    """What is wrong with ``words`` read back from a model folder for ``classes``, or None."""
    if type(words) is not dict or sorted(words) != sorted(classes):
        return f"label_words must map each of the labels {list(classes)} to a word"
    values = list(words.values())
    if not all(type(w) is str and w.strip() and len(w) <= MAX_CHARS for w in values):
        return f"label_words must be non-empty strings of at most {MAX_CHARS} characters"
    if any(not w.isprintable() for w in values):
        return "label_words must be printable (no line breaks or control characters)"
    if len({w.strip().lower() for w in values}) != len(values):
        return f"label_words must differ from each other, not {values}"
    return None
