"""Grouped cross-validation in compare: folds pooled per config, a corrected test between configs.

Runs of a `split.strategy=kfold` dataset (one per fold, any number of seeds) form one section per
(dataset, K, split seed). Per config the table shows the mean ± std over the runs (from each
metrics.json), the out-of-fold score pooled over every row (each row is in exactly one test fold)
with a bootstrap interval that resamples whole documents, and, against the best config, the
corrected resampled t-test of Nadeau & Bengio (2003) on the per-fold differences: the variance of
the mean difference is inflated by n_test / n_train = 1 / (K - 1), since the training folds overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats

from stance import runs
from stance.compare.records import Config
from stance.scoring import metrics


def corrected_t_test(diffs: Sequence[float], k: int) -> float:
    """Two-sided p of the Nadeau-Bengio corrected resampled t-test on per-fold differences."""
    d = np.asarray(diffs, dtype=float)
    if len(d) < 2:
        return float("nan")
    var = d.var(ddof=1) * (1 / len(d) + 1 / (k - 1))
    if var == 0:
        return 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / np.sqrt(var)
    return float(2 * scipy_stats.t.sf(abs(t), df=len(d) - 1))


def pooled(config: Config, split: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Out-of-fold gold, pred, doc and label set over the config's runs (first seed per fold)."""
    gold, pred, docs, labels = [], [], [], []
    seen_folds: set[int] = set()
    for run in sorted(config.complete, key=lambda r: (r.fold, str(r.path))):
        if run.fold in seen_folds or not runs.predictions_path(run.path, split).is_file():
            continue
        seen_folds.add(run.fold)
        labels = labels or list(run.labels or [])
        for row in runs.read_predictions(run.path, split):
            gold.append(row["gold"])
            pred.append(row["pred"])
            docs.append(str(row.get("doc_id", row["id"])))
    return gold, pred, docs, labels


def pooled_interval(
    headline: str, config: Config, n_boot: int, confidence: float, seed: int
) -> tuple[float, float, float, int]:
    """Pooled out-of-fold score, its document-bootstrap interval, and the rows it covers."""
    split, name = headline.split("/")
    gold, pred, docs, labels = pooled(config, split)
    if not gold:
        return np.nan, np.nan, np.nan, 0
    labels = labels + sorted({*gold, *pred} - set(labels))
    index = {label: i for i, label in enumerate(labels)}
    g = np.array([index[x] for x in gold])
    p = np.array([index[x] for x in pred])
    neutral = config.complete[0].neutral
    metric = metrics.batch_metric(name, labels, neutral)
    score = float(metric(g, p))
    _, doc = np.unique(docs, return_inverse=True)
    rows_of = np.split(np.argsort(doc, kind="stable"), np.cumsum(np.bincount(doc))[:-1])
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        take = np.concatenate([rows_of[d] for d in rng.integers(0, len(rows_of), len(rows_of))])
        boots.append(metric(g[take], p[take]))
    tail = (1 - confidence) / 2
    low, high = np.quantile(boots, [tail, 1 - tail]) if boots else (np.nan, np.nan)
    return score, float(low), float(high), len(gold)


def fold_scores(config: Config, headline: str) -> dict[int, float]:
    """The headline of each fold (mean over the fold's seeds)."""
    by_fold: dict[int, list[float]] = {}
    for run in config.complete:
        if headline in run.metrics:
            by_fold.setdefault(run.fold, []).append(float(run.metrics[headline]))
    return {f: float(np.mean(v)) for f, v in by_fold.items()}
