"""Evaluate a model on dataset splits and write metrics, predictions, reports and plots."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset, DatasetDict
from omegaconf import DictConfig, OmegaConf
from sklearn.metrics import classification_report

from stance import pages, runs
from stance.data import overlap
from stance.data.build import prepare_dataset
from stance.errors import StanceError, problem
from stance.experiment.run_report import write_run_report
from stance.experiment.slices import prediction_rows, slice_columns, write_metrics
from stance.models import health
from stance.models.base import StanceModel
from stance.models.batching import batched_proba
from stance.predict import load_model
from stance.scoring.metrics import HEADLINE, expected_calibration_error, split_metrics


def check_labels(model: StanceModel, data: Dataset, where: str) -> None:
    """Refuse a dataset whose label names differ from the model's classes."""
    names = list(data.features["label"].names)
    if sorted(names) != sorted(model.classes_):
        raise StanceError(
            problem(
                where,
                f"the dataset's labels {names} do not match the model's labels {model.classes_}",
                "evaluate on a dataset with the same label set (e.g. a binary model on a "
                "binary dataset) or retrain the model on this one",
            )
        )


def predict_split(
    model: StanceModel, data: Dataset, batch_size: int = 4096, **options: Any
) -> np.ndarray:
    """Probabilities for every row of ``data``, columns reordered to the dataset's label order."""
    use_target = "target" in data.column_names and model.uses_target
    targets = list(data["target"]) if use_target else None
    call = partial(model.predict_proba, **options)
    proba = batched_proba(call, list(data["text"]), targets, batch_size, len(model.classes_))
    order = [model.classes_.index(name) for name in data.features["label"].names]
    return proba[:, order]


def write_split_reports(
    out_dir: Path, split: str, gold: np.ndarray, proba: np.ndarray, classes: Sequence[str]
) -> None:
    """``classification_report_<split>.txt`` and ``confusion_matrix_<split>.png``."""
    labels = list(range(len(classes)))
    pred = proba.argmax(axis=1)
    report = classification_report(
        gold, pred, labels=labels, target_names=list(classes), digits=4, zero_division=0
    )
    runs.write_text(out_dir / f"classification_report_{split}.txt", report)
    size = (1.2 * len(classes) + 2.5, 1.2 * len(classes) + 2)
    fig = pages.confusion_figure(gold, pred, classes, f"{split} (n={len(gold)})", size)
    fig.tight_layout()
    (out_dir / f"confusion_matrix_{split}.png").write_bytes(pages.figure_png(fig, dpi=100))


def evaluate(
    model: StanceModel,
    dataset: DatasetDict,
    splits: Sequence[str] = ("validation", "test"),
    out_dir: str | Path | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    neutral: str | None = None,
    kfold: bool | None = None,
    auxiliary: Sequence[str] = (),
    group_by: Sequence[str] = (),
    min_group_rows: int = 1,
    progress: bool = False,
    metric: str = HEADLINE,
) -> dict[str, float]:
    """Metrics of ``model`` on each split as flat ``split/metric`` keys.

    ``kfold`` (not None: the run's own dataset, True under cross-validation) adds the ``data/*``
    checks of the splits (too few rows, a label or policy missing: ``health.data_metrics``);
    ``auxiliary``: the datasets whose train rows were added (their policies are not the user's).

    ``neutral`` is the dataset's no-stance label (the card's ``neutral_label``), or None; ``metric``
    its headline metric, which gets a bootstrap interval next to F_avg's.
    Scores are sliced by target, source and the ``group_by`` columns; a value with fewer than
    ``min_group_rows`` rows is pooled with the others like it (``metrics.group_metrics``).

    With ``out_dir`` also writes ``predictions/<split>.jsonl``, the classification report and the
    confusion-matrix PNG of each split, and ``metrics.json``. ``progress``: a line on stderr as
    each phase starts.
    """
    metrics: dict[str, float] = {}
    reported: dict[str, tuple] = {}
    predicted: dict[str, tuple] = {}  # split -> (gold, predicted) indices, for the health checks
    for split in splits:
        if split not in dataset or len(dataset[split]) == 0:
            continue
        data = dataset[split]
        check_labels(model, data, f"dataset split {split!r}")
        classes = data.features["label"].names
        gold = np.asarray(data["label"], dtype=int)
        interval = f", a {n_bootstrap}-resample bootstrap interval" if n_bootstrap else ""
        _say(progress, f"{split}: predicting {len(data)} rows, then scores{interval}")
        proba = predict_split(model, data)
        groups = slice_columns(data, group_by, split)
        scores = split_metrics(
            gold,
            proba,
            classes,
            neutral,
            groups,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
            min_rows=min_group_rows,
            intervals=(HEADLINE, metric),
        )
        metrics.update({f"{split}/{k}": v for k, v in scores.items()})
        predicted[split] = (gold, proba.argmax(axis=1))
        temperature = model.temperature_ if model.calibrated else 1.0
        if temperature != 1.0:  # ECE before the fitted temperature, next to `ece` after it
            raw = predict_split(model, data, calibrated=False)
            metrics[f"{split}/ece_uncalibrated"] = expected_calibration_error(gold, raw)
            metrics[f"{split}/temperature"] = float(temperature)
        if out_dir is not None:
            out = Path(out_dir)
            rows = prediction_rows(data, proba)
            runs.write_predictions(out, split, rows)
            write_split_reports(out, split, gold, proba, classes)
            reported[split] = (gold, proba, rows)
    metrics.update(health.health_metrics(model.fit_log_, predicted, len(model.classes_)))
    if kfold is not None:  # a run's own splits (evaluate_configured): how far they can be trusted
        scored = [s for s in splits if s in predicted]
        metrics.update(_data_metrics(dataset, scored, kfold, auxiliary))
    if out_dir is not None:
        write_metrics(out_dir, metrics)
        if reported:
            _say(progress, f"writing {Path(out_dir) / 'report.html'}")
            title = f"{out_dir}: a {model.family} model, labels {', '.join(classes)}"
            write_run_report(out_dir, title, metrics, reported, classes)
    return metrics


def _say(progress: bool, text: str) -> None:
    if progress:
        print(f"evaluation: {text}", file=sys.stderr, flush=True)


def evaluate_configured(
    model: StanceModel, dataset: DatasetDict, cfg: DictConfig, run_dir: Path, neutral: str | None
) -> dict[str, float]:
    """``evaluate`` with the ``evaluation`` and ``seed`` settings of a top-level config."""
    return evaluate(
        model,
        dataset,
        splits=list(cfg.evaluation.splits),
        out_dir=run_dir,
        n_bootstrap=cfg.evaluation.bootstrap,
        confidence=cfg.evaluation.confidence,
        seed=cfg.seed,
        neutral=neutral,
        kfold=OmegaConf.select(cfg, "dataset.split.strategy") in ("kfold", "target_kfold"),
        auxiliary=list(OmegaConf.select(cfg, "dataset.auxiliary") or []),
        group_by=list(cfg.evaluation.group_by),
        min_group_rows=cfg.evaluation.min_group_rows,
        progress=bool(cfg.get("progress", False)),
        metric=OmegaConf.select(cfg, "dataset.metric", default=None) or HEADLINE,
    )


def _data_metrics(
    dataset: DatasetDict, scored: list[str], kfold: bool, auxiliary: Sequence[str]
) -> dict[str, float]:
    """``health.data_metrics`` of the train split (the user's own rows) and the ``scored`` ones."""
    columns = {}
    borrowed = tuple(f"{name}:" for name in auxiliary)  # stance.data.auxiliary's id prefix
    for split in ["train", *scored]:
        if split in dataset:
            data = dataset[split]
            targets = data["target"] if "target" in data.column_names else None
            if targets is not None and split == "train" and borrowed:
                targets = [
                    t
                    for t, i in zip(targets, data["id"], strict=True)
                    if not i.startswith(borrowed)
                ]
            columns[split] = {"label": data["label"], "target": targets}
    labels = dataset[scored[0]].features["label"].names if scored else []
    return health.data_metrics(columns, labels, kfold)


def unseen_only(
    dataset: DatasetDict, splits: Sequence[str], record: dict, card: dict, allow: bool
) -> tuple[DatasetDict, dict[str, int]]:
    """The splits without the rows the model trained on; stops on any unless ``allow``."""
    counts = {}
    for split in [s for s in splits if s in dataset]:
        seen = overlap.seen_rows(record, dataset[split]["text"], split)
        counts[split] = int(seen.sum())
        where = f"dataset {card.get('name')!r}, split {split!r}"
        if counts[split] and not allow:
            rows = "training rows" if split == "validation" else "training or validation rows"
            what = (
                f"{counts[split]} of {len(seen)} rows were in the model's {rows} "
                f"({overlap.why_seen(record, card)}): their score would not be a test score"
            )
            fix = (
                "evaluate on the dataset config the model was trained with, or add "
                "allow_overlap=true to score only the unseen rows"
            )
            raise StanceError(problem(where, what, fix))
        dataset[split] = dataset[split].select(np.flatnonzero(~seen))
        if counts[split]:
            left = (
                f"{len(dataset[split])} unseen rows scored" if len(dataset[split]) else "no score"
            )
            print(
                f"{where}: {counts[split]} rows seen in training left out ({left})", file=sys.stderr
            )
    return dataset, counts


def evaluate_saved(cfg: DictConfig) -> dict[str, float]:
    """``scripts/evaluate.py``: a saved model on ``cfg.dataset``, written into ``cfg.run_dir``.

    Rows the model was trained on are refused (``allow_overlap=true``: left out and counted).
    """

    predictor = load_model(cfg.model_path)
    dataset, card = prepare_dataset(cfg.dataset, cfg.paths.processed_root)
    record = overlap.read_record(predictor.path)
    if record is None:
        counts: dict[str, Any] = {"unknown": f"{predictor.path} has no {overlap.RECORD_FILE}"}
        print(f"warning: {counts['unknown']}: overlap with its training data is not checked",
              file=sys.stderr)  # fmt: skip
    else:
        splits = list(cfg.evaluation.splits)
        dataset, counts = unseen_only(dataset, splits, record, card, cfg.allow_overlap)
    run_dir = Path(cfg.run_dir)
    info = {
        "kind": "evaluate",
        "model_path": str(predictor.path),
        "dataset": cfg.dataset.name,
        "dataset_fingerprint": card.get("fingerprint"),
        "labels": list(predictor.classes_),
        "neutral_label": card.get("neutral_label"),
        "metric": OmegaConf.select(cfg, "dataset.metric", default=None) or "f_avg",
        "seed": cfg.seed,
        "overrides": runs.hydra_overrides(),
        "overlap": counts,
    }
    runs.write_config(run_dir, cfg)
    with runs.recording(run_dir, info):
        metrics = evaluate_configured(predictor.model, dataset, cfg, run_dir, info["neutral_label"])
        metrics.update({f"{s}/overlap_rows": float(n) for s, n in counts.items() if s in dataset})
        write_metrics(run_dir, metrics)
        return metrics
