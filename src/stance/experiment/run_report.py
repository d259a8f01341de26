"""`report.html`: one self-contained page per run that a person reads (opens offline, no scripts).

Training health first (a stalled loss, predictions collapsed to one class), then per evaluated
split: the headline metrics with their interval, per-class scores, the confusion
matrix, a reliability (calibration) diagram, precision-recall curves, the per-target and
per-source tables (and one per `evaluation.group_by` column; values with fewer rows than
`evaluation.min_group_rows` pooled as one "other" row), and the most confident mistakes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance import pages, runs
from stance.models import health
from stance.scoring.metrics import BATCH_METRICS, HEADLINE, OTHER

REPORT_FILE = "report.html"  # one self-contained page per run
METRIC_NAMES = {"f_avg": "F_avg", "f1_macro": "macro-F1", "accuracy": "accuracy"}

MISTAKES = 25
# The run page's own rules, after pages.BASE_STYLE.
STYLE = (
    "h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}.figs img{max-width:340px;border:1px solid #eee}"
    ".warn{background:#fff3cd;border:2px solid #d39e00;padding:.5em 1em;margin:1em 0}"
)


def _png(fig: Any) -> str:
    """A matplotlib figure as an inline <img> (base64 PNG), and close it."""
    return pages.inline_png(pages.figure_png(fig, dpi=90, bbox_inches="tight"), "figure")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A table; an int is a count (printed whole), a float a score (3 decimals, NaN: "–")."""

    def cell(v: Any) -> str:
        if isinstance(v, int | np.integer):
            return f'<td class="n">{v}</td>'
        if isinstance(v, float):
            shown = "–" if np.isnan(v) else f"{v:.3f}"
            return f'<td class="n">{shown}</td>'
        return f"<td>{html.escape(str(v))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figures(split: str, gold: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> str:
    """Confusion matrix, reliability diagram and precision-recall curves of one split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    pred = proba.argmax(axis=1)
    out = [_png(pages.confusion_figure(gold, pred, classes, f"confusion matrix ({split})"))]
    confidence, right = proba.max(axis=1), pred == gold
    bins = np.minimum((confidence * 10).astype(int), 9)
    used = [b for b in range(10) if (bins == b).any()]
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.plot([0, 1], [0, 1], ls="--", color="gray", label="perfectly calibrated")
    ax.plot([confidence[bins == b].mean() for b in used], [right[bins == b].mean() for b in used],
            marker="o", label="this model")  # fmt: skip
    ax.set(xlabel="confidence (top class)", ylabel="accuracy", title="reliability", xlim=(0, 1))
    ax.legend(loc="upper left")
    out.append(_png(fig))
    fig, ax = plt.subplots(figsize=(4, 3.6))
    for i, name in enumerate(classes):
        if 0 < (gold == i).sum() < len(gold):
            precision, recall, _ = precision_recall_curve(gold == i, proba[:, i])
            ax.plot(recall, precision, label=name)
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower left")
    out.append(_png(fig))
    return '<div class="figs">' + "".join(out) + "</div>"


def _count(value: Any) -> int | float:
    """A count as an int (metrics.json may hold it as 3.0); NaN when missing."""
    return float("nan") if value is None or value != value else int(value)


def _score(value: Any) -> float:
    """A score as a float; undefined (null in metrics.json) as NaN, shown as "–"."""
    return float("nan") if value is None else float(value)


def _groups(metrics: Mapping[str, Any], split: str, column: str) -> str:
    """The by-<column> table: a row per value scored alone, then the pooled small values."""
    prefix = f"{split}/by_{column}/"
    values = sorted({k[len(prefix) :].rsplit("/", 1)[0] for k in metrics if k.startswith(prefix)})
    if not values:
        return ""
    plural = {"target": "targets", "source": "sources"}.get(column, f"{column} values")
    rows, note = [], ""
    for v in [v for v in values if v != OTHER] + [v for v in values if v == OTHER]:
        name = v
        if v == OTHER:
            pooled = _count(metrics[f"{prefix}{v}/groups"])
            name = f"other {plural} ({pooled})"
            note = (
                f'<p class="muted">other {plural}: {pooled} with too few rows to score alone '
                "(evaluation.min_group_rows), pooled.</p>"
            )
        scores = (_score(metrics[f"{prefix}{v}/{m}"]) for m in BATCH_METRICS)
        rows.append([name, _count(metrics[f"{prefix}{v}/n"]), *scores])
    header = [column, "n", "F_avg", "macro-F1", "accuracy"]
    return f"<h3>by {column}</h3>" + _table(header, rows) + note


def _group_columns(metrics: Mapping[str, Any], split: str) -> list[str]:
    """The columns ``split`` is sliced by (target and source first), from its ``by_*`` keys."""
    prefix = f"{split}/by_"
    found = {k[len(prefix) :].split("/", 1)[0] for k in metrics if k.startswith(prefix)}
    return [c for c in ("target", "source") if c in found] + sorted(found - {"target", "source"})


def _mistakes(rows: Sequence[Mapping[str, Any]], classes: Sequence[str]) -> str:
    wrong = [r for r in rows if r["gold"] != r["pred"]]
    wrong.sort(key=lambda r: -max(r["proba"].values()))
    body = [
        [
            r["text"],
            r.get("target", ""),
            r["gold"],
            r["pred"],
            ", ".join(f"{c} {r['proba'][c]:.2f}" for c in classes),
        ]
        for r in wrong[:MISTAKES]
    ]
    title = f"<h3>the {min(MISTAKES, len(wrong))} most confident mistakes (of {len(wrong)})</h3>"
    return title + _table(["text", "target", "gold", "predicted", "probabilities"], body)


def _warnings(lines: Sequence[str]) -> str:
    """The health warnings as a box above everything else (the scores below mean little)."""
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<div class="warn"><h2>Warnings</h2><ul>{items}</ul></div>'


def _recorded_metric(out_dir: str | Path) -> str:
    """The headline metric the run record in ``out_dir`` names (``dataset.metric``), or F_avg."""
    record = runs.read_run(out_dir) or {}
    return str(record.get("metric") or HEADLINE)


def _heading(split: str, m: Mapping[str, Any], metric: str) -> str:
    """``test: macro-F1 0.612 (95% bootstrap interval ...)``: the dataset's headline metric."""
    low, high = m.get(f"{metric}_ci_low"), m.get(f"{metric}_ci_high")
    ok = low is not None and high is not None and not np.isnan(low)
    interval = f" (95% bootstrap interval {low:.3f}-{high:.3f})" if ok else ""
    value = m.get(metric)
    shown = "–" if value is None or np.isnan(value) else f"{value:.3f}"
    return f"<h2>{split}: {METRIC_NAMES.get(metric, metric)} {shown}{interval}</h2>"


def write_run_report(
    out_dir: str | Path,
    title: str,
    metrics: Mapping[str, float],
    splits: Mapping[str, tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]],
    classes: Sequence[str],
    headline: str | None = None,
) -> Path:
    """Write `report.html`; `splits`: split -> (gold indices, probabilities, prediction rows).
    Each split is headed by ``headline`` (null: the metric the run's run.json records, else
    F_avg)."""
    parts = [f"<h1>{html.escape(title)}</h1>", _warnings(health.warnings(metrics))]
    for split, (gold, proba, rows) in splits.items():
        m = {k[len(split) + 1 :]: v for k, v in metrics.items() if k.startswith(f"{split}/")}
        parts.append(_heading(split, m, headline or _recorded_metric(out_dir)))
        keys = ("n", *BATCH_METRICS, "roc_auc", "pr_auc", "ece")
        head = [_count(m.get("n")), *(float(m.get(k, np.nan)) for k in keys[1:])]
        parts.append(_table(list(keys), [head]))
        scored = ("precision", "recall", "f1")
        per_class = [
            [c, *(float(m[f"{s}/{c}"]) for s in scored), _count(m[f"support/{c}"])] for c in classes
        ]
        parts.append(_table(["label", "precision", "recall", "F1", "support"], per_class))
        parts.append(_figures(split, gold, proba, classes))
        parts += [_groups(metrics, split, c) for c in _group_columns(metrics, split)]
        parts.append(_mistakes(rows, classes))
    path = Path(out_dir) / REPORT_FILE
    path.write_text(pages.html_page(title, parts, STYLE), encoding="utf-8")
    return path
