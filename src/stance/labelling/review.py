"""The review sheet: labelled paragraphs whose given label is likely wrong.

Confident learning (cleanlab's ``find_label_issues``) over out-of-fold probabilities: every
labelled row of every split is scored by a model trained on the other folds only, the folds
grouped by ``doc_id`` (no paragraph is judged by a model that read its article) and stratified
by label as far as the groups allow. The model is ``review.model`` (``tfidf_logreg`` by default,
built by ``stance.models.build`` as ``train.py`` builds it). A row whose label no training fold
held cannot be judged and is left out. The sheet lists the flagged rows, most likely wrong first,
under the dataset's own columns with the given label in the label column, so correcting that
column and adding the file as a later round feeds the correction back.
"""

from __future__ import annotations

import re
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset, DatasetDict, concatenate_datasets
from sklearn.model_selection import StratifiedGroupKFold

from stance import models
from stance.data.schema import DatasetConfig
from stance.labelling.sheets import sheet_columns, sheet_record, write_csv

REVIEW_SHEET = "review_sheet.csv"
REVIEW_COLUMNS = ("given_label", "suggested_label", "p_suggested", "p_given", "split")
MIN_ROWS = 30  # below this, k models of a few rows each flag noise rather than wrong labels


def labelled_rows(dataset: DatasetDict) -> tuple[Dataset, list[str]]:
    """Every split's rows as one dataset, and the split each row came from."""
    names = [s for s in dataset if len(dataset[s])]
    rows = concatenate_datasets([dataset[s] for s in names])
    return rows, [s for s in names for _ in range(len(dataset[s]))]


def out_of_fold(
    rows: Dataset, model_cfg: Any, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int] | str:
    """Per row, the probabilities of a model that never saw the row's document and whether the
    row's label was among its training labels, and the number of folds; or why there are none."""
    labels = np.asarray(rows["label"])
    docs = np.asarray(rows["doc_id"], dtype=object)
    k = min(folds, len(set(docs.tolist())))
    if len(rows) < MIN_ROWS or k < 2 or len(np.unique(labels)) < 2:
        return (
            f"{len(rows)} labelled rows in {len(set(docs.tolist()))} documents with "
            f"{len(np.unique(labels))} labels; a grouped k-fold needs at least {MIN_ROWS} rows, "
            "2 documents and 2 labels (label more, then run suggest.py again)"
        )
    proba = np.zeros((len(rows), len(rows.features["label"].names)))
    judged = np.zeros(len(rows), bool)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    targets = np.asarray(rows["target"], object) if "target" in rows.column_names else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class" on small data
        parts = list(splitter.split(np.zeros(len(rows)), labels, docs))
    for train, held in parts:
        if not len(held):
            continue
        if len(np.unique(labels[train])) < 2:
            return "a fold's training part holds one label only; label more documents first"
        model = models.build(model_cfg).fit(rows.select(train), None)
        texts = list(rows.select(held)["text"])
        proba[held] = model.predict_proba(
            texts, None if targets is None else targets[held].tolist()
        )
        judged[held] = np.isin(labels[held], labels[train])
    return proba, judged, k


def label_issues(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Indices of rows whose label is likely wrong, most likely first (cleanlab, ranked by
    self-confidence: the out-of-fold probability of the given label)."""
    from cleanlab.filter import find_label_issues

    present = np.unique(labels)  # cleanlab wants labels 0..K-1 with every class present
    if len(present) < 2:
        return np.zeros(0, np.int64)
    code = np.searchsorted(present, labels)
    sub = proba[:, present]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small classes: cleanlab warns but still answers
        found = find_label_issues(code, sub, return_indices_ranked_by="self_confidence", n_jobs=1)
    return np.asarray(found, np.int64)


def review_records(
    rows: Dataset, splits: list[str], proba: np.ndarray, flagged: np.ndarray, cfg: DatasetConfig
) -> tuple[list[str], list[dict[str, Any]]]:
    """The review sheet's columns and its rows: the dataset's columns (the given label in the
    label column), then the given and suggested label, their probabilities and the split."""
    names = rows.features["label"].names
    columns = sheet_columns(cfg)
    for field in ("id", "doc_id", "target", "text"):
        if field in rows.column_names and field not in columns and field not in columns.values():
            columns[field] = field
    header = [*columns.values(), *(c for c in REVIEW_COLUMNS if c not in columns.values())]
    records = []
    for i in flagged.tolist():
        row = rows[i]
        given = int(row["label"])
        others = proba[i].copy()
        others[given] = -1.0  # the suggestion is the likeliest *other* label
        suggested = int(others.argmax())
        fields = row | {"label": names[given], "paragraph": _paragraph(row, cfg)}
        if row.get("date"):  # stored as ISO; the file is read back with date_format
            fields["date"] = date.fromisoformat(row["date"][:10]).strftime(cfg.date_format)
        records.append(
            sheet_record(fields, columns)
            | {
                "given_label": names[given],
                "suggested_label": names[suggested],
                "p_suggested": round(float(proba[i, suggested]), 4),
                "p_given": round(float(proba[i, given]), 4),
                "split": splits[i],
            }
        )
    return header, records


def _paragraph(row: dict[str, Any], cfg: DatasetConfig) -> int | None:
    """An articles dataset's paragraph index, from the id its reader gives (<doc_id>-p<index>)."""
    if cfg.format != "articles":
        return None
    found = re.fullmatch(re.escape(str(row.get("doc_id"))) + r"-p(\d+)", str(row.get("id")))
    return int(found.group(1)) if found else None


def write_review(
    dataset: DatasetDict,
    cfg: DatasetConfig,
    model_cfg: Any,
    folds: int,
    seed: int,
    out: Path,
    max_rows: int = 50,
) -> Path | None:
    """Write ``review_sheet.csv`` into ``out`` and say on stderr how many rows it flags; None
    (and why, on stderr) when the dataset is too small for a grouped k-fold."""
    rows, splits = labelled_rows(dataset)
    result = out_of_fold(rows, model_cfg, folds, seed)
    if isinstance(result, str):
        print(f"no review sheet: {result}", file=sys.stderr)
        return None
    proba, judged, k = result
    labels = np.asarray(rows["label"])
    kept = np.flatnonzero(judged)
    flagged = kept[label_issues(labels[kept], proba[kept])] if len(kept) else kept
    header, records = review_records(rows, splits, proba, flagged[:max_rows], cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / REVIEW_SHEET, header, records)
    unjudged = len(rows) - len(kept)
    note = f"; {unjudged} rows of a label no training fold held were not judged" if unjudged else ""
    # the weaker the out-of-fold model, the more right labels it doubts: say how good it is
    accuracy = float((proba.argmax(axis=1) == labels).mean())
    print(
        f"review: {len(flagged)} of {len(rows)} labelled rows may carry a wrong label "
        f"(confident learning over {k}-fold out-of-fold probabilities grouped by doc_id, "
        f"out-of-fold accuracy {accuracy:.2f}{note}); the {len(records)} most likely wrong "
        f"first (review.max_rows={max_rows}): {out / REVIEW_SHEET}",
        file=sys.stderr,
    )
    return out / REVIEW_SHEET
