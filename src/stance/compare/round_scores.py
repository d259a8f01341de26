"""Labels vs score across labelling rounds: did the last round of labels pay off?

When one config has complete runs on several rounds of one dataset (sections named by
``stance.compare.rounds``), its view lists per round the training labels (rows in each model's
``training_data.json``, mean over its runs) and the section table's headline score with its
interval (pooled out-of-fold under cross-validation), and says in one sentence what each round's
labels bought. The rounds have different test sets: the scores are each round's own, not a
paired comparison.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stance.compare.cells import fmt, interval
from stance.compare.learning_curve import train_labels
from stance.compare.records import Config
from stance.compare.rounds import built, round_run
from stance.compare.table import CompareConfig, SectionTable, _value, _varying_keys


@dataclass
class RoundsView:
    """One config's headline across the rounds of one dataset, oldest round first."""

    dataset: str
    config: str
    points: pd.DataFrame  # round (title), name, index, built, labels, score, low, high, runs

    def sentence(self, scale: float) -> str:
        """``round 0 → round 1: +40 labels, score 52.1 → 58.3``, one step per new round."""
        steps = []
        for a, b in itertools.pairwise(self.points.itertuples()):
            names = (a.name, b.name) if a.name != b.name else (a.round, b.round)
            known = not (pd.isna(a.labels) or pd.isna(b.labels))
            more = f"{b.labels - a.labels:+,.0f}" if known else "?"
            scores = f"{fmt(a.score, scale)} → {fmt(b.score, scale)}"
            steps.append(f"{names[0]} → {names[1]}: {more} labels, score {scores}")
        return "; ".join(steps) + "."

    def cells(self, cfg: CompareConfig) -> tuple[str, list[str], list[list[str]], str]:
        """Heading, columns, rows (round, built, labels, score, interval, runs) and sentence."""
        scale = 100.0 if cfg.percent else 1.0
        columns = ["round", "built", "training labels (mean)", cfg.headline]
        columns += [f"{int(cfg.confidence * 100)}% CI", "runs"]
        rows = [
            [r.name, r.built, "–" if pd.isna(r.labels) else f"{r.labels:,.0f}",
             fmt(r.score, scale), interval(r.low, r.high, scale), str(r.runs)]
            for r in self.points.itertuples()
        ]  # fmt: skip
        title = f"Labels vs score across rounds: {self.dataset}, {self.config}"
        return title, columns, rows, self.sentence(scale)


NOTE = (
    "Each round is scored on its own test set (a new round adds test documents), so the scores "
    "are not a paired comparison; training labels: the rows each model trained on."
)


def _row(st: SectionTable, config: Config, headline: str) -> dict[str, Any]:
    """The config's round and training labels, and the section table's score and interval."""
    keys = _varying_keys(st.section)
    wanted = tuple(_value(config, k) for k in keys)
    found = [r for _, r in st.table.iterrows() if tuple(r[k] for k in keys) == wanted]
    pooled = f"{headline} pooled"
    column = pooled if pooled in st.table.columns else headline
    scores = [found[0][c] if found else math.nan for c in (column, f"{headline} ci_low")]
    run = round_run(st.section)
    labels = [train_labels(r.path) for r in config.complete]
    return {
        "round": st.section.title,
        "name": str(run.round.get("name")),
        "index": int(run.round.get("index") or 0),
        "built": built(run),
        "labels": float(np.nanmean(labels)) if np.isfinite(labels).any() else math.nan,
        "score": scores[0],
        "low": scores[1],
        "high": found[0][f"{headline} ci_high"] if found else math.nan,
        "runs": len(config.complete),
    }


def views(sections: list[SectionTable], cfg: CompareConfig) -> list[RoundsView]:
    """A view for every config with complete runs on more than one round of a dataset."""
    found: dict[tuple[str, tuple], list[tuple[SectionTable, Config]]] = {}
    for st in sections:
        if st.section.title is None:
            continue
        for config in st.section.configs:
            if config.complete and "evaluate" not in config.overrides:  # retrained, not re-scored
                key = (st.section.dataset, tuple(config.overrides.items()))
                found.setdefault(key, []).append((st, config))
    out = []
    for (dataset, key), items in found.items():
        points = pd.DataFrame.from_records([_row(st, c, cfg.headline) for st, c in items])
        if points["name"].nunique() < 2:
            continue
        points = points.sort_values(["index", "built"], ignore_index=True)
        name = " ".join(f"{k}={v}" for k, v in key) or f"model={_value(items[0][1], 'model')}"
        out.append(RoundsView(dataset, name, points))
    return out
