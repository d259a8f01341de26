"""Many runs -> one table per test set: seeds, mean ± std, a bootstrap interval, a paired test.

Statistics (see ``stance.scoring.stats``): the interval is a percentile bootstrap over test
examples of the config's seed-mean headline score; the test of each config against the best
(highest headline mean) is either a paired bootstrap on the same resampled examples (both configs'
seed-mean scores) or McNemar on the majority vote of each config's seeds. Runs on different
datasets or test sets are never pooled: each (dataset fingerprint, test set) is its own section.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import MISSING, DictConfig, OmegaConf

from stance import neutral_keys
from stance.compare import cv as compare_cv
from stance.compare import rounds, selection
from stance.compare.records import (
    Config,
    Run,
    Section,
    TestSet,
    find_run_dirs,
    group_runs,
    load_run,
    matches,
    section_predictions,
)
from stance.errors import StanceError, problem
from stance.runs import normal_number
from stance.scoring import metrics, stats

DEFAULT = "(default)"


@dataclass
class LearningCurveConfig:
    """Sections whose runs have more than one dataset.train_fraction (+experiment=
    demo_learning_curve) also get a learning curve: the headline (pooled out-of-fold under
    cross-validation) against the number of training rows, a power law a - b * n^-c fitted per
    family, and in words how many labels each family needs to reach `target`
    (``stance.compare.learning_curve``)."""

    target: float | None = None  # a score in raw units (0.6 for 60 points); null: best + gain
    gain: float = 0.05  # target = the best family's score at its most labels + gain
    horizon: float = 10.0  # beyond this many times a family's labels: "not reached within 10x"


@dataclass
class CompareConfig:
    """``scripts/compare.py``: one table per dataset fingerprint and test set (never pooled), one
    row per config. Every default and its help line is stated here; configs/compare.yaml holds
    only what is not a plain value (the runs' folders from paths.runs_root, Hydra's settings)."""

    paths: Any = MISSING  # configs/paths/default.yaml
    # folders searched (recursively) for run folders: single runs and multiruns alike, including
    # runs still running or crashed (listed as such)
    runs: list[str] = MISSING
    # comparison.md / .csv / .html and the charts go here; configs/compare.yaml makes it a new
    # folder per call, comparison/<date>_<time>; a folder named here is written (over) as it is
    out_dir: str = "comparison"
    # columns: mean ± std over seeds, from each run's metrics.json
    metrics: list[str] = field(
        default_factory=lambda: [f"test/{name}" for name in metrics.BATCH_METRICS]
    )
    # bootstrap interval, paired test, ranking and chart; recomputed from
    # predictions/<split>.jsonl, so <split>/f_avg, <split>/f1_macro or <split>/accuracy; null:
    # test/<the metric the runs' run.json records> (dataset.metric; runs that record different
    # ones are refused: compare them apart, or name one here)
    headline: str | None = None
    sort_by: str | None = None  # a column (a metric or an override key); null: the headline
    ascending: bool = False  # true: the lowest sort_by first (for a loss or an error rate)
    # keep only runs where every key (resolved config, e.g. model.name, or override) has one of the
    # values; on the command line add keys with a +: +where.model.name=[tfidf_svm,tfidf_logreg]
    where: dict[str, Any] = field(default_factory=dict)
    # overrides that do not make a different config (fnmatch patterns): seeds are pooled into a
    # row, the dataset is fixed by the section's fingerprint, and the result-neutral keys
    # (stance.neutral_keys) do not count. A !pattern is kept even when another pattern matches:
    # train_fraction is applied after the build, so it is not in the fingerprint, and each
    # fraction is a config of its own
    ignore_overrides: list[str] = field(default_factory=neutral_keys.compare_ignored)
    # each config against the best: paired_bootstrap (seed-mean score on the same resampled test
    # examples) or mcnemar (exact, on each config's majority vote over seeds)
    test: str = "paired_bootstrap"
    n_bootstrap: int = 1000  # resamples of the paired bootstrap and the intervals
    confidence: float = 0.95  # of the intervals
    alpha: float = 0.05  # p below it: "worse than the best"; at or above: "indistinguishable"
    seed: int = 0  # of the bootstrap resampling
    percent: bool = True  # show metrics x100 in Markdown and the chart; the CSV keeps raw values
    # runs stopped by SIGTERM/Ctrl-C (run.json `interrupted`, resumable) are never ranked; false:
    # counted in one line per section; true: each listed in its own block
    include_interrupted: bool = False
    learning_curve: LearningCurveConfig = field(default_factory=LearningCurveConfig)


@dataclass
class SectionTable:
    """One compared section: the table (a row per config) and the runs that are not complete."""

    section: Section
    table: pd.DataFrame
    test_set: TestSet | None
    not_complete: list[Run]
    seed_scores: dict[str, list[float]]
    interrupted: list[Run] = field(default_factory=list)  # listed apart, never ranked
    headline: str | None = None  # what the table was ranked by (cfg.headline, resolved)


def _value(config: Config, key: str) -> str:
    """The config's value for an override key; when not overridden, the value its runs used.

    A config group (``model``) shows the chosen node's ``name``.
    """
    if key in config.overrides:
        return config.overrides[key]
    resolved = config.runs[0].config
    node = OmegaConf.select(resolved, key, default=None) if resolved is not None else None
    if isinstance(node, DictConfig):
        node = node.get("name")
    return DEFAULT if node is None else normal_number(str(node))


def _label(values: dict[str, str]) -> str:
    """A config's name: its overridden values among those that differ between configs."""
    return " ".join(f"{k}={v}" for k, v in values.items() if v != DEFAULT) or "(defaults)"


def _varying_keys(section: Section) -> list[str]:
    """Override keys whose value is not the same in every config of the section."""
    keys = sorted({k for c in section.configs for k in c.overrides})
    return [k for k in keys if len({c.overrides.get(k) for c in section.configs}) > 1]


def _batch_metric(headline: str, test_set: TestSet) -> stats.BatchMetric:
    """The headline key (``test/f_avg``) as a function stats can bootstrap: metrics.json's own."""
    return metrics.batch_metric(headline.rsplit("/", 1)[-1], test_set.labels, test_set.neutral)


def _p_value(
    test: str,
    metric: stats.BatchMetric,
    gold: np.ndarray,
    best: np.ndarray,
    other: np.ndarray,
    idx: np.ndarray,
) -> float:
    """p-value of ``test`` between the best config's and another config's predictions."""
    if test == "mcnemar":
        return stats.mcnemar(gold, stats.majority_vote(best), stats.majority_vote(other))
    return stats.paired_bootstrap(metric, gold, best, other, idx)


def summarize(section: Section, rows_by_run: dict[Path, Any], cfg: CompareConfig) -> SectionTable:
    """Build the table of one section (its interrupted runs set apart, never ranked)."""
    section, interrupted = selection.without_interrupted(section)
    # a cross-validation section's folds have test sets of their own: see _cross_validated
    cv = next((r.cv for c in section.configs for r in c.runs if r.cv), None)
    test_set, stacked = (None, []) if cv else section_predictions(section, rows_by_run)
    keys = _varying_keys(section)
    records, seed_scores = [], {}
    shown = [{k: _value(c, k) for k in keys} for c in section.configs]
    names = [_label(values) for values in shown]
    for i, config in enumerate(section.configs):
        values, label = shown[i], names[i]
        if names.count(label) > 1:  # e.g. model=x given vs model x by default: show the overrides
            label += " [" + " ".join(f"{k}={v}" for k, v in config.overrides.items()) + "]"
        done = config.complete
        statuses = Counter(r.status for r in config.runs if r.status != "complete")
        row: dict[str, Any] = dict(values)
        row.update(
            config=label,
            seeds=len(done),
            not_complete=", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        )
        for m in cfg.metrics:
            scores = [float(r.metrics[m]) for r in done if m in r.metrics]
            row[m] = np.mean(scores) if scores else np.nan
            row[f"{m} std"] = np.std(scores, ddof=1) if len(scores) > 1 else np.nan
        seed_scores[label] = [
            float(r.metrics[cfg.headline]) for r in done if cfg.headline in r.metrics
        ]
        records.append(row)
    table = pd.DataFrame.from_records(records)
    low, high = f"{cfg.headline} ci_low", f"{cfg.headline} ci_high"
    table[low] = table[high] = table["p_vs_best"] = np.nan
    table["best"] = False
    if cv is not None:
        _cross_validated(section, table, cfg, folds=cv[0])
    if test_set is not None:
        metric = _batch_metric(cfg.headline, test_set)
        idx = stats.resample_indices(len(test_set.ids), cfg.n_bootstrap, cfg.seed)
        for i, preds in enumerate(stacked):
            if preds is not None:
                ci = stats.bootstrap_interval(metric, test_set.gold, preds, idx, cfg.confidence)
                table.loc[i, [low, high]] = ci
        scored = [i for i, p in enumerate(stacked) if p is not None]
        if scored and cfg.headline in table:
            best = max(scored, key=lambda i: np.nan_to_num(table.loc[i, cfg.headline], nan=-np.inf))
            for i in scored:
                p = _p_value(cfg.test, metric, test_set.gold, stacked[best], stacked[i], idx)
                table.loc[i, "p_vs_best"] = np.nan if i == best else p
            table.loc[best, "best"] = True
    table["significant"] = table["p_vs_best"] < cfg.alpha
    sort_key = cfg.sort_by or cfg.headline
    if sort_key in table:
        table = table.sort_values(sort_key, ascending=cfg.ascending, na_position="last")
    not_complete = [r for c in section.configs for r in c.runs if r.status != "complete"]
    table = table.reset_index(drop=True)
    return SectionTable(
        section, table, test_set, not_complete, seed_scores, interrupted, cfg.headline
    )


def _cross_validated(section: Section, table: pd.DataFrame, cfg: CompareConfig, folds: int) -> None:
    """A kfold section's pooled out-of-fold score, its interval, and the corrected t-test."""
    h = cfg.headline
    table.insert(table.columns.get_loc("seeds"), "runs", table.pop("seeds"))
    per_fold = [compare_cv.fold_scores(c, h) for c in section.configs]
    table["folds"] = [len(scores) for scores in per_fold]
    for i, config in enumerate(section.configs):
        score, low, high, n = compare_cv.pooled_interval(
            h, config, cfg.n_bootstrap, cfg.confidence, cfg.seed
        )
        table.loc[i, [f"{h} pooled", f"{h} ci_low", f"{h} ci_high", "pooled rows"]] = (
            score,
            low,
            high,
            n,
        )
    means = [np.mean(list(f.values())) if f else -np.inf for f in per_fold]
    best = int(np.argmax(means))
    for i, scores in enumerate(per_fold):
        shared = sorted(set(scores) & set(per_fold[best]))
        diffs = [per_fold[best][k] - scores[k] for k in shared]
        p = compare_cv.corrected_t_test(diffs, folds)
        table.loc[i, "p_vs_best"] = np.nan if i == best else p
    table.loc[best, "best"] = True


def compare(cfg: CompareConfig) -> list[SectionTable]:
    """Read every run under ``cfg.runs`` that passes ``cfg.where``; one table per test set.
    A null ``cfg.headline`` is filled in with the runs' own metric (``selection``)."""
    selection.check(cfg)
    runs = [load_run(p) for p in find_run_dirs(cfg.runs)]
    runs = [r for r in runs if matches(r, dict(cfg.where))]
    if not runs:
        raise StanceError(
            problem(
                f"runs={list(cfg.runs)}",
                "no run folders found (none holds run.json or .hydra/) or none passes `where`",
                "point runs= at the output folders of scripts/train.py, or relax where=",
            )
        )
    cfg.headline = selection.resolve_headline(cfg.headline, runs)
    selection.check(cfg)
    sections, rows_by_run = group_runs(runs, list(cfg.ignore_overrides), cfg.headline.split("/")[0])
    rounds.name_sections(sections)  # "round 1 (built 2026-12-07)", not a hash
    return [summarize(s, rows_by_run, cfg) for s in sections if selection.ranked(s)]


def register_schema() -> None:
    """Store ``CompareConfig`` as ``compare_schema`` so ``compare.yaml`` typos fail loudly."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="compare_schema", node=CompareConfig)
