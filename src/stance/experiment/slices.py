"""The columns of a split's predictions and what its scores are sliced by, and ``metrics.json``
with undefined slice scores as null."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from stance import runs
from stance.errors import StanceError, problem
from stance.models.batching import labels_from_proba

GROUP_COLUMNS = ("target", "source")  # sliced by whenever the data has them
# the columns every built dataset may have; any other column came from `dataset.columns.extra`
BUILT_COLUMNS = ("id", "text", "label", "doc_id", "date", *GROUP_COLUMNS)


def slice_columns(data: Dataset, group_by: Sequence[str], split: str) -> dict[str, list]:
    """The columns to slice ``split`` by: target and source when present, then ``group_by``."""
    columns = [c for c in GROUP_COLUMNS if c in data.column_names]
    for column in group_by:
        if column not in data.column_names:
            what = f"evaluation.group_by names {column!r}, a column split {split!r} does not have"
            fix = (
                f"keep it from the input with dataset.columns.extra=[{column}] (the dataset is "
                f"rebuilt), or use one of {sorted(data.column_names)}"
            )
            raise StanceError(problem("evaluation.group_by", what, fix))
        columns += [] if column in columns else [column]
    return {c: data[c] for c in columns}


def write_metrics(out_dir: str | Path, metrics: dict[str, float]) -> None:
    """``metrics.json``, with an undefined slice score (``by_*`` NaN) written as null."""
    undefined = {k for k, v in metrics.items() if "/by_" in k and v != v}
    runs.write_metrics(out_dir, {k: None if k in undefined else v for k, v in metrics.items()})


def prediction_rows(data: Dataset, proba: np.ndarray) -> list[dict[str, Any]]:
    """One record per example: id, text, doc_id, target/source if any, the `columns.extra`
    columns, gold, pred, proba by label."""
    classes = data.features["label"].names
    extra = [c for c in ("doc_id", *GROUP_COLUMNS) if c in data.column_names]
    extra += [c for c in data.column_names if c not in BUILT_COLUMNS]
    predicted = labels_from_proba(proba, classes)
    rows = []
    for i, example in enumerate(data):
        row = {"id": example["id"], "text": example["text"]}
        row.update({c: example[c] for c in extra})
        row["gold"] = classes[example["label"]]
        row["pred"] = predicted[i]
        row["proba"] = {c: round(float(p), 6) for c, p in zip(classes, proba[i], strict=True)}
        rows.append(row)
    return rows
