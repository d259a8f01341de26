"""Find and read run records for compare, and group them: per test set, then per config.

Runs are found by their record (``run.json``) or, for jobs that died before writing one, by
Hydra's ``.hydra/`` folder. They are grouped first by dataset and test set (never pooled across
them), then by config: the run's Hydra overrides minus the ignored ones (``seed`` by default), so
the seeds of one config form one row.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from stance import runs
from stance.errors import StanceError, problem

log = logging.getLogger(__name__)
NO_RECORD = "no record"
UNKNOWN = "?"


@dataclass
class Run:
    """One run folder as compare sees it."""

    path: Path
    status: str
    dataset: str
    fingerprint: str
    overrides: dict[str, str]
    seed: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    config: Any = None
    evaluated: str | None = None  # an evaluate.py run: the model folder it re-evaluated
    labels: list[str] | None = None  # the label set and no-stance label its run.json records
    neutral: str | None = None
    cv: tuple[int, Any] | None = None  # a kfold dataset's (K, split seed): its folds are pooled
    fold: int | None = None
    round: dict[str, Any] | None = None  # the dataset's labelling round {name, index}, its build
    built_at: str | None = None
    metric: str | None = None  # the dataset's headline metric its run.json records


def _kfold(config: Any) -> tuple[tuple[int, Any] | None, int | None]:
    """(K, split seed) and the test fold of a run on a kfold dataset, else (None, None)."""
    split = OmegaConf.select(config, "dataset.split", default=None) if config else None
    if not split or split.get("strategy") not in ("kfold", "target_kfold"):
        return None, None
    seed = split.get("seed")
    if split.get("strategy") == "target_kfold":  # folds of targets: never pooled with kfold's
        seed = f"{seed}, folds of targets"
    return (int(split["folds"]), seed), int(split["fold"])


@dataclass
class TestSet:
    """A section's test examples in id order; ``gold`` holds indices into ``labels``."""

    ids: list[str]
    labels: list[str]
    gold: np.ndarray
    neutral: str | None = None  # the dataset's no-stance label, as the runs recorded it


@dataclass
class Config:
    """The runs (all statuses) that share one set of identifying overrides."""

    overrides: dict[str, str]
    runs: list[Run]

    @property
    def complete(self) -> list[Run]:
        """Runs whose record says ``complete``."""
        return [r for r in self.runs if r.status == "complete"]


@dataclass
class Section:
    """Runs on one dataset fingerprint and one test set: the only runs that may be compared."""

    dataset: str
    fingerprint: str
    test_digest: str | None
    configs: list[Config]
    title: str | None = None  # the round by name and date (stance.compare.rounds), not by hash


def _parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """``["model=svm", "+x=1.0", "e=a\\:b"]`` -> ``{"model": "svm", "x": "1", "e": "a:b"}``:
    numbers written one way, and a sweep's escapes undone (as the command line wrote it)."""
    pairs = (item.split("=", 1) for item in items if "=" in item)
    return {
        key.lstrip("+~"): runs.normal_numbers("=" + re.sub(r"\\(.)", r"\1", value))[1:]
        for key, value in pairs
    }


def find_run_dirs(folders: Sequence[str | Path]) -> list[Path]:
    """Every run folder under ``folders``: holding ``run.json`` or Hydra's ``.hydra/``.

    Missing folders are logged and skipped (``runs/`` does not exist until a single run was
    made), unless none exists at all.
    """
    existing = [Path(f) for f in folders if Path(f).is_dir()]
    if not existing:
        raise StanceError(
            problem(
                ", ".join(map(str, folders)),
                "no such folder of runs",
                "train first, or pass the folders that hold runs: runs=[FOLDER,...]",
            )
        )
    for missing in set(map(Path, folders)) - set(existing):
        log.warning("%s: no such folder, skipped", missing)
    found: set[Path] = set()
    for folder in existing:
        found.update(p.parent for p in folder.rglob(runs.RUN_FILE))
        found.update(p.parent for p in folder.rglob(".hydra") if p.is_dir())
    return sorted(found)


def load_run(path: Path) -> Run:
    """Read one run folder; a folder without ``run.json`` has status ``no record``."""
    hydra_dir = path / ".hydra"
    configs = [f for f in (path / runs.CONFIG_FILE, hydra_dir / "config.yaml") if f.is_file()]
    config = OmegaConf.load(configs[0]) if configs else None
    record = runs.read_run(path)
    if record is None:
        overrides_file = hydra_dir / "overrides.yaml"
        items = OmegaConf.load(overrides_file) if overrides_file.is_file() else []
        overrides = _parse_overrides(list(items))
        dataset = OmegaConf.select(config, "dataset.name", default=UNKNOWN) if config else UNKNOWN
        seed = overrides.get("seed")
        return Run(path, NO_RECORD, dataset, UNKNOWN, overrides, seed, config=config)
    has_metrics = (path / runs.METRICS_FILE).is_file()
    cv, fold = _kfold(config)
    return Run(
        path=path,
        status=record.get("status", NO_RECORD),
        dataset=str(record.get("dataset", UNKNOWN)),
        fingerprint=str(record.get("dataset_fingerprint", UNKNOWN)),
        overrides=_parse_overrides(record.get("overrides", [])),
        seed=record.get("seed"),
        metrics=runs.read_metrics(path) if has_metrics else {},
        config=config,
        evaluated=record.get("model_path") if record.get("kind") == "evaluate" else None,
        labels=record.get("labels"),
        neutral=record.get("neutral_label"),
        cv=cv,
        fold=fold,
        round=record.get("dataset_round"),
        built_at=record.get("dataset_built_at"),
        metric=record.get("metric"),
    )


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"name": "x"}}`` -> ``{"model.name": "x"}``."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def matches(run: Run, where: dict[str, Any]) -> bool:
    """True when every ``key: value`` (or list of values) of ``where`` holds for the run.

    A key is looked up in the run's resolved config (``model.name``) and then its overrides;
    nested ``{"model": {"name": ...}}`` (from ``+where.model.name=...``) means ``model.name``.
    """
    for key, wanted in _flatten(where).items():
        value = OmegaConf.select(run.config, key, default=None) if run.config else None
        value = run.overrides.get(key) if value is None else value
        allowed = wanted if isinstance(wanted, list | tuple) else [wanted]
        if runs.normal_number(str(value)) not in {runs.normal_number(str(a)) for a in allowed}:
            return False
    return True


def identity(run: Run, ignore: Sequence[str]) -> dict[str, str]:
    """The overrides that identify the run's config: all but those matching ``ignore`` patterns,
    except those matching a ``!pattern`` (kept even when another pattern matches them)."""
    keep = [pat[1:] for pat in ignore if pat.startswith("!")]
    return {
        k: v
        for k, v in sorted(run.overrides.items())
        if any(fnmatch(k, pat) for pat in keep) or not any(fnmatch(k, pat) for pat in ignore)
    }


def read_predictions(path: Path, split: str = "test") -> dict[str, tuple[str, str]]:
    """``{id: (gold, pred)}`` from ``predictions/<split>.jsonl``; empty when the file is missing."""
    if not runs.predictions_path(path, split).is_file():
        return {}
    rows = runs.read_predictions(path, split)
    try:
        return {str(row["id"]): (str(row["gold"]), str(row["pred"])) for row in rows}
    except KeyError as err:
        raise StanceError(
            problem(
                str(runs.predictions_path(path, split)),
                f"a prediction line has no {err} field",
                "rerun that run to rewrite its predictions",
            )
        ) from err


def _test_digest(rows: dict[str, tuple[str, str]]) -> str | None:
    """Fingerprint of a test set: its ids with their gold labels."""
    if not rows:
        return None
    text = "\n".join(f"{i}\t{rows[i][0]}" for i in sorted(rows))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def group_runs(
    runs: Sequence[Run], ignore: Sequence[str], split: str = "test"
) -> tuple[list[Section], dict[Path, dict[str, tuple[str, str]]]]:
    """Sections per (dataset, fingerprint, test set) with configs inside; plus the predictions read.

    Runs without predictions (still running, crashed, or no file) join the section of their
    dataset fingerprint when it has a single test set, else a section of their own; runs without
    a record (no fingerprint) join the one fingerprint seen for their dataset name, if only one.
    """
    predictions = {r.path: read_predictions(r.path, split) for r in runs if r.status == "complete"}
    digests = {r.path: _test_digest(predictions.get(r.path, {})) for r in runs}
    known: dict[tuple[str, str], set[str]] = {}
    for r in runs:
        if digests[r.path]:
            known.setdefault((r.dataset, r.fingerprint), set()).add(digests[r.path])
    fingerprints: dict[str, set[str]] = {}
    for r in runs:
        if r.fingerprint != UNKNOWN:
            fingerprints.setdefault(r.dataset, set()).add(r.fingerprint)
    buckets: dict[tuple[str, str, str | None, str | None], dict[tuple, Config]] = {}
    for r in runs:
        fingerprint, digest = r.fingerprint, digests[r.path]
        same_name = fingerprints.get(r.dataset, set())
        if fingerprint == UNKNOWN and len(same_name) == 1:
            fingerprint = next(iter(same_name))
        seen = known.get((r.dataset, fingerprint), set())
        if digest is None and len(seen) == 1:
            digest = next(iter(seen))
        cv_round = None
        if r.cv:  # every fold has its own fingerprint and test set: pool them by (K, seed) ...
            fingerprint, digest = f"kfold K={r.cv[0]} split seed={r.cv[1]}", None
            cv_round = (r.round or {}).get("name") or "round 0"  # ... within one labelling round
        configs = buckets.setdefault((r.dataset, fingerprint, digest, cv_round), {})
        key_overrides = identity(r, ignore)
        if r.evaluated:  # a re-evaluation is its own row, never a seed of its training run
            key_overrides = {"evaluate": r.evaluated, **key_overrides}
        key = tuple(key_overrides.items())
        configs.setdefault(key, Config(key_overrides, [])).runs.append(r)
    sections = [
        Section(dataset, fp, digest, list(configs.values()))
        for (dataset, fp, digest, _), configs in sorted(buckets.items(), key=lambda kv: str(kv[0]))
    ]
    return sections, predictions


def section_predictions(
    section: Section, rows_by_run: dict[Path, dict[str, tuple[str, str]]]
) -> tuple[TestSet | None, list[np.ndarray | None]]:
    """The section's test set and, per config, its runs' predictions stacked (n_runs, n) by id.

    A config gets None when it has no complete run or one of them lacks predictions.
    """
    all_rows = [
        rows_by_run[r.path] for c in section.configs for r in c.complete if rows_by_run.get(r.path)
    ]
    if not all_rows:
        return None, [None] * len(section.configs)
    ids = sorted(all_rows[0])
    # the label set the runs were trained on (run.json), not the labels that happen to occur
    recorded = [r for c in section.configs for r in c.complete if r.labels]
    seen = sorted({v for rows in all_rows for pair in rows.values() for v in pair})
    labels = list(recorded[0].labels) if recorded else seen
    neutral = recorded[0].neutral if recorded else None
    labels += [v for v in seen if v not in labels]
    index = {label: i for i, label in enumerate(labels)}
    gold = np.array([index[all_rows[0][i][0]] for i in ids])
    stacked: list[np.ndarray | None] = []
    for config in section.configs:
        rows = [rows_by_run.get(r.path, {}) for r in config.complete]
        ok = bool(rows) and all(rows)
        stacked.append(np.array([[index[rr[i][1]] for i in ids] for rr in rows]) if ok else None)
    return TestSet(ids, labels, gold, neutral), stacked
