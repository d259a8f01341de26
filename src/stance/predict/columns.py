"""What an output row holds: its columns in order, its labels in the dataset's own words, and the
flat form (``proba_<label>`` columns) that CSV, Parquet and xlsx outputs write.

A model trained on sheets that said Support/Oppose keeps those words (``label_words`` in its
``training_data.json``, ``stance.data.label_words``): ``label`` and the probability names are
written in them, for the person who reads the output, and ``label_canonical`` keeps the model's
own class name, for the program that joins the output with a run's predictions. A model without
words writes its class names in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

LEVEL = ("level",)
PARAGRAPH_COLUMNS = ("doc_id", "id", "paragraph", "target", "text", "label", "label_canonical",
                     "unseen_target", "furniture")  # fmt: skip
DOCUMENT_COLUMNS = ("paragraphs", "paragraphs_used", "reason")  # on document rows only
ARTICLE_COLUMNS = ("doc_id", "label", "label_canonical")  # an xlsx's articles sheet, then probas
TYPES = {"paragraph": pa.int64(), "paragraphs": pa.int64(), "paragraphs_used": pa.int64(),
         "unseen_target": pa.bool_(), "furniture": pa.bool_()}  # fmt: skip
LEFT_OUT = ("rule",)  # the document rule is stated once, in <output>.stance.json


class View:
    """How rows of a model with ``classes`` are written: ``words`` maps a class to its word."""

    def __init__(self, classes: Sequence[str], words: Mapping[str, str] | None = None) -> None:
        self.classes = list(classes)
        self.words = {c: (words or {}).get(c, c) for c in self.classes}
        self.names = [self.words[c] for c in self.classes]  # the probability columns' names

    def present(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` as written: label in words, ``label_canonical``, probabilities by word."""
        out = {k: v for k, v in row.items() if k not in LEFT_OUT and k != "proba"}
        label = row.get("label")
        out["label"] = self.words.get(label, label)
        out["label_canonical"] = label
        out["proba"] = {self.words.get(c, c): p for c, p in row["proba"].items()}
        return out

    def columns(self) -> list[str]:
        """The columns of a CSV or Parquet output, in order."""
        return [*LEVEL, *PARAGRAPH_COLUMNS, *self.probas(), *DOCUMENT_COLUMNS]

    def probas(self) -> list[str]:
        """The probability columns: ``proba_<word>``."""
        return [f"proba_{name}" for name in self.names]

    def flat(self, row: dict[str, Any]) -> dict[str, Any]:
        """A presented row with its probabilities as ``proba_<word>`` columns."""
        record = {k: row.get(k) for k in (*LEVEL, *PARAGRAPH_COLUMNS, *DOCUMENT_COLUMNS)}
        record.update({f"proba_{n}": row["proba"][n] for n in self.names})
        return {c: record[c] for c in self.columns()}

    def schema(self) -> pa.Schema:
        """The Parquet schema of ``columns``."""
        return pa.schema(
            [
                (c, pa.float64() if c.startswith("proba_") else TYPES.get(c, pa.string()))
                for c in self.columns()
            ]
        )
