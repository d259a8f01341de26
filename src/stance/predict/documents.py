"""Labelling: paragraph rows with a label and probabilities, and a document stance per article."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from stance.config_schemas import DocumentConfig
from stance.data.furniture import compile_patterns, furniture_kind
from stance.errors import StanceError, problem
from stance.models.batching import labels_from_proba
from stance.predict.loading import Predictor
from stance.scoring.metrics import stance_indices

NO_CLEAR_STANCE = "no clear stance"
DOCUMENT_RULE = (
    "mean of the paragraph probabilities over the stance-bearing paragraphs (those not marked "
    "furniture and not predicted as the dataset's no-stance label, so bylines, datelines, "
    "captions, share lines and reporting stay out); label = the stance label with the highest "
    "mean, or 'no clear stance' when fewer than {min_paragraphs} paragraphs bear a stance or the "
    "top two stance labels' means are less than {min_margin} apart"
)
WHERE = "_where"  # input rows may carry their location (file:line) for error messages


def describe(rule: DocumentConfig) -> str:
    """``DOCUMENT_RULE`` with the thresholds of ``rule``."""
    return DOCUMENT_RULE.format(min_paragraphs=rule.min_paragraphs, min_margin=rule.min_margin)


def document_stance(
    proba: np.ndarray,
    classes: Sequence[str],
    neutral: str | None,
    rule: DocumentConfig | None = None,
    furniture: np.ndarray | None = None,
) -> tuple[str, np.ndarray, int]:
    """Document label, mean probabilities and number of paragraphs used (``DOCUMENT_RULE``);
    ``furniture``: per paragraph, True for page furniture, which never counts."""
    return decide(proba, classes, neutral, rule or DocumentConfig(), furniture)[:3]


def decide(
    proba: np.ndarray,
    classes: Sequence[str],
    neutral: str | None,
    rule: DocumentConfig,
    furniture: np.ndarray | None = None,
) -> tuple[str, np.ndarray, int, str]:
    """``document_stance`` and why there is no clear stance ('' when there is one)."""
    text = np.ones(len(proba), bool) if furniture is None else ~np.asarray(furniture, bool)
    stance = stance_indices(classes, neutral)
    bearing = text & np.isin(proba.argmax(axis=1), stance)
    used = proba[bearing] if bearing.any() else proba[text] if text.any() else proba
    mean = used.mean(axis=0)
    ranked = np.sort(mean[stance])[::-1]
    margin = ranked[0] - ranked[1] if len(ranked) > 1 else 1.0
    n = int(bearing.sum())
    if n < rule.min_paragraphs:
        skipped = f"; {len(text) - int(text.sum())} are page furniture" if not text.all() else ""
        why = f"{n} of {len(proba)} paragraphs bear a stance{skipped}; {rule.min_paragraphs} needed"
        return NO_CLEAR_STANCE, mean, n, why
    if margin < rule.min_margin:
        why = f"the top two stance labels' means are {margin:.3f} apart, under {rule.min_margin}"
        return NO_CLEAR_STANCE, mean, n, why
    return classes[stance[int(mean[stance].argmax())]], mean, len(used), ""


def unit_key(unit: Sequence[dict[str, Any]]) -> str:
    """What identifies a unit in an output: its ``doc_id``, or the ``id`` of a lone paragraph."""
    first = unit[0]
    return str(first["doc_id"]) if first.get("doc_id") is not None else str(first["id"])


def group_units(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped into units: all rows of one ``doc_id`` (first-seen order), lone rows alone."""
    units: list[list[dict[str, Any]]] = []
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        doc = row.get("doc_id")
        if doc is None:
            units.append([row])
        elif str(doc) in by_doc:
            by_doc[str(doc)].append(row)
        else:
            by_doc[str(doc)] = [row]
            units.append(by_doc[str(doc)])
    return units


def label_units(
    predictor: Predictor,
    units: Iterable[list[dict[str, Any]]],
    default_target: str | None = None,
    batch_size: int = 256,
    rule: DocumentConfig | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """For each unit, its paragraph rows (``label``, ``proba``) then, with a ``doc_id``, its
    ``document`` row. Units are gathered into batches of about ``batch_size`` paragraphs, so
    memory stays flat however many units come."""
    rule = rule or DocumentConfig()
    patterns = compile_patterns(rule.furniture_patterns, "document.furniture_patterns")
    buffer: list[list[dict[str, Any]]] = []
    size = 0
    for unit in units:
        buffer.append(unit)
        size += len(unit)
        if size >= batch_size:
            yield from _label(predictor, buffer, default_target, batch_size, rule, patterns)
            buffer, size = [], 0
    if buffer:
        yield from _label(predictor, buffer, default_target, batch_size, rule, patterns)


def label_rows(
    predictor: Predictor,
    rows: list[dict[str, Any]],
    default_target: str | None = None,
    batch_size: int = 256,
    rule: DocumentConfig | None = None,
) -> list[dict[str, Any]]:
    """All output rows for ``rows`` (see ``label_units``), units in first-seen order."""
    if not rows:
        raise StanceError(problem("input", "empty input: no paragraphs", "give some text"))
    units = group_units(rows)
    return [row for out in label_units(predictor, units, default_target, batch_size, rule)
            for row in out]  # fmt: skip


def _label(
    predictor: Predictor,
    units: list[list[dict[str, Any]]],
    default_target: str | None,
    batch_size: int,
    rule: DocumentConfig,
    patterns: list[re.Pattern],
) -> Iterator[list[dict[str, Any]]]:
    rows = [row for unit in units for row in unit]
    targets = [row.get("target") or default_target for row in rows]
    if predictor.requires_target and None in targets:
        row = rows[targets.index(None)]
        raise StanceError(
            problem(
                row.get(WHERE, f"input row {targets.index(None) + 1}"),
                "this model was trained per policy and needs a target for every text",
                "give each text its policy: predict.py and suggest.py read a `target` column "
                "(columns.target=<yours>), a <file>.target sidecar or target='<policy>'; the "
                "HTTP API a `targets` list, one per text",
            )
        )
    use = targets if predictor.uses_target else None
    proba = predictor.predict_proba([row["text"] for row in rows], use, batch_size)
    classes = predictor.classes_
    labels = labels_from_proba(proba, classes)
    unseen = set(predictor.unseen_targets(targets))
    if predictor.seen_targets is not None:
        unseen.add(None)  # a target-aware model given no target: its shared weights alone
    furniture = np.array(
        [rule.furniture and furniture_kind(row["text"], 0, patterns) is not None for row in rows]
    )  # predict.py counts no paragraph as too short: a short one may still take a side
    start = 0
    for unit in units:
        stop = start + len(unit)
        part, marked = proba[start:stop], furniture[start:stop]
        out = [
            _paragraph(row, target, classes, p, label, target in unseen, bool(f))
            for row, target, p, label, f in zip(
                unit, targets[start:stop], part, labels[start:stop], marked, strict=True
            )
        ]
        start = stop
        if unit[0].get("doc_id") is not None:
            out.append(_document(str(unit[0]["doc_id"]), part, predictor, rule, marked))
        yield out


def _paragraph(
    row: dict, target: str | None, classes: Sequence[str], p: np.ndarray, label: str,
    unseen: bool, furniture: bool,
) -> dict:  # fmt: skip
    kept = {k: v for k, v in row.items() if k != WHERE}
    given = {"target": target} if target is not None else {}
    # unseen_target: a target outside the model's training targets, labelled by shared weights
    return {
        "level": "paragraph",
        **kept,
        **given,
        "label": label,
        "unseen_target": unseen,
        "furniture": furniture,  # page furniture: never counts towards the document stance
        "proba": _proba(classes, p),
    }


def _document(
    doc_id: str,
    proba: np.ndarray,
    predictor: Predictor,
    rule: DocumentConfig,
    furniture: np.ndarray,
) -> dict:
    classes = predictor.classes_
    label, mean, used, why = decide(proba, classes, predictor.neutral_label, rule, furniture)
    return {
        "level": "document",
        "doc_id": doc_id,
        "label": label,
        "proba": _proba(classes, mean),
        "paragraphs": len(proba),
        "paragraphs_used": used,
        "reason": why,  # why there is no clear stance; '' when there is one
        "rule": describe(rule),
    }


def _proba(classes: Sequence[str], p: np.ndarray) -> dict[str, float]:
    return {c: round(float(v), 6) for c, v in zip(classes, p, strict=True)}
