"""``train(cfg)``: dataset -> model -> evaluation -> run record (and optionally MLflow)."""

from __future__ import annotations

import hashlib
import json
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

import stance.config_schemas  # noqa: F401  (registers the config schemas)
from stance import distributed, folders, models, neutral_keys, runs
from stance.data import auxiliary, fractions, overlap, prepare_dataset
from stance.errors import StanceError, problem
from stance.experiment.evaluation import evaluate_configured
from stance.experiment.model_card import model_card
from stance.experiment.run_report import REPORT_FILE
from stance.experiment.trackers import flatten
from stance.models import health
from stance.models.targets import target_report
from stance.scoring.metrics import BATCH_METRICS, HEADLINE


def headline_metric(cfg: DictConfig) -> str:
    """The dataset's headline metric (``dataset.metric``; F_avg for configs without one)."""
    return str(OmegaConf.select(cfg, "dataset.metric", default=None) or HEADLINE)


def headline_keys(metric: str = HEADLINE) -> tuple[str, ...]:
    """The summary's keys: the headline with its interval first, then the other metrics."""
    return (
        *(f"test/{metric}{part}" for part in ("", "_ci_low", "_ci_high")),
        *(f"test/{name}" for name in BATCH_METRICS if name != metric),
        f"validation/{metric}",
    )


def follow_dataset_metric(cfg: DictConfig) -> None:
    """A model that picks checkpoints by a validation metric (``model.metric_for_best_model``,
    null by default) picks them by the dataset's headline unless the config names another."""
    model = cfg.get("model")
    if model is not None and "metric_for_best_model" in model and not model.metric_for_best_model:
        model.metric_for_best_model = headline_metric(cfg)


def config_hash(cfg: DictConfig, world_size: int = 1, auxiliary_data: list | None = None) -> str:
    """A short hash of the resolved config, without the result-neutral keys; a multi-rank
    run hashes its number of ranks too (its global batch is that many times model.batch_size),
    and a run with auxiliary datasets their content fingerprints (a rebuilt one is new data)."""
    plain = neutral_keys.without_neutral(OmegaConf.to_container(cfg, resolve=True))
    model = plain.get("model")
    if isinstance(model, dict) and model.get("callbacks", 0) is None:  # as before the field
        model.pop("callbacks")
    if world_size > 1:  # single-process hashes stay as they were, so old runs are still reused
        plain["world_size"] = world_size
    if isinstance(plain.get("dataset"), dict):  # the records below say it, with the data's content
        plain["dataset"].pop("auxiliary", None)
        if plain["dataset"].get("metric") == HEADLINE:  # runs from before `metric` are reused
            plain["dataset"].pop("metric")
    if auxiliary_data:
        plain["auxiliary"] = auxiliary_data
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _reusable(run_dir: Path, digest: str, fingerprint: str | None) -> bool:
    """True when ``run_dir`` holds a complete run of the same config on the same data."""
    info = runs.read_run(run_dir)
    return bool(
        info
        and info.get("status") == "complete"
        and info.get("config_hash") == digest
        and info.get("dataset_fingerprint") == fingerprint
        and (run_dir / runs.METRICS_FILE).is_file()
    )


def keep_other_data(run_dir: Path, fingerprint: str | None, card: dict) -> Path:
    """The folder this run goes into: ``run_dir``, unless that holds a complete run of other data
    (the dataset was rebuilt, e.g. with another labelling round). That run is kept, and this one
    goes to the sibling ``<run_dir>.round-<index>`` (``-<fingerprint[:8]>`` added when that too
    holds other data), where the usual rules apply: reuse, ``rerun=true``, continue."""
    by_round = run_dir.with_name(f"{run_dir.name}.round-{runs.dataset_round(card)['index']}")
    folders = (run_dir, by_round, by_round.with_name(f"{by_round.name}-{str(fingerprint)[:8]}"))
    for folder in folders:
        held = runs.read_run(folder)
        if not held or held.get("status") != "complete":
            return folder
        if held.get("dataset_fingerprint") == fingerprint:
            return folder
    raise StanceError(
        problem(
            str(folders[-1]),
            "this folder and the ones before it hold complete runs of other data",
            f"move one of {', '.join(map(str, folders))} away, or pass run_dir=FOLDER",
        )
    )


def _moved(run_dir: Path, target: Path, fingerprint: str | None, card: dict) -> str:
    """One line: the complete run in ``run_dir`` is of other data, kept; this run goes to
    ``target``."""
    held = runs.read_run(run_dir) or {}
    old = held.get("dataset_round")
    old = runs.round_title(old, held.get("dataset_built_at")) if old else "an earlier build"
    new = runs.round_title(runs.dataset_round(card), card.get("built_at"))
    return (
        f"{run_dir}: holds a complete run of other data, {old} [dataset "
        f"{str(held.get('dataset_fingerprint'))[:8]}], kept as it is; this run on {new} "
        f"[dataset {str(fingerprint)[:8]}] goes to {target}"
    )


def _hydra_record_follows(run_dir: Path, target: Path) -> None:
    """Hydra wrote this job's ``.hydra/`` into the folder it chose (over the kept run's); a copy
    goes with the run into ``target``. The job log stays where Hydra opened it."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized() or not HydraConfig.get().output_subdir:
        return
    hydra_cfg = HydraConfig.get()
    source = Path(hydra_cfg.runtime.output_dir) / hydra_cfg.output_subdir
    if source.is_dir() and source.parent.resolve() == run_dir.resolve():
        shutil.copytree(source, target / hydra_cfg.output_subdir, dirs_exist_ok=True)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train ``cfg.model`` on ``cfg.dataset``, evaluate it and write the run record into
    ``cfg.run_dir``; returns the flat metrics. A complete run of the same config is reused.

    Under torchrun / accelerate launch / submitit tasks the transformer trains data-parallel:
    rank 0 builds the dataset first, every rank trains, and only rank 0 evaluates and writes;
    the other ranks return an empty dict.
    """
    distributed.adopt_submitit_tasks()
    refuse_single_process_family(cfg)
    with (
        distributed.session(cfg.distributed.backend, cfg.distributed.timeout_s),
        ExitStack() as held,
    ):
        return _train(cfg, held)


def refuse_single_process_family(cfg: DictConfig) -> None:
    """Stop a multi-rank launch of a model family that trains in one process."""
    ranks = distributed.world_size()
    target = OmegaConf.select(cfg, "model._target_")
    if ranks == 1 or get_class(target).data_parallel:
        return
    raise StanceError(
        problem(
            f"model={cfg.model.get('name')}",
            f"this family trains in one process, but the job was launched with {ranks} ranks",
            "start it without torchrun / accelerate launch / tasks_per_node "
            "(python scripts/train.py ...); only the transformer family trains data-parallel",
        )
    )


def _lock(run_dir: Path, cfg: DictConfig, held: ExitStack) -> None:
    """One train.py writes a run folder at a time (rank 0 for a multi-rank run): held to the end."""
    if distributed.is_main():
        wait = bool(OmegaConf.select(cfg, "run_lock.wait", default=False))
        held.enter_context(folders.writer_lock(run_dir, "train.py", wait))


def _train(cfg: DictConfig, held: ExitStack) -> dict[str, float]:
    run_dir = Path(cfg.run_dir)
    main = distributed.is_main()
    _lock(run_dir, cfg, held)  # before anything is read: a waiting run then reuses the first
    if OmegaConf.select(cfg, "dataset.split.follow_seed"):
        cfg.dataset.split.seed = cfg.seed  # a seed sweep then measures the split's variance too
    with distributed.main_first():  # rank 0 builds or checks; the others then load the same
        dataset, card = prepare_dataset(cfg.dataset, cfg.paths.processed_root)
    dataset = fractions.apply_train_fraction(dataset, cfg.dataset)  # learning-curve points
    dataset, extra = auxiliary.add_train_rows(dataset, cfg.dataset, cfg.paths.processed_root, main)
    fingerprint = card.get("fingerprint")
    dataset_dir = Path(cfg.paths.processed_root) / card.get("folder", cfg.dataset.name)
    if main:
        print(f"dataset:       {dataset_dir}/  (card: card.md, fingerprint {fingerprint})")
    follow_dataset_metric(cfg)  # before the hash: the checkpoint metric changes the result
    digest = config_hash(cfg, distributed.world_size(), extra)
    target = keep_other_data(run_dir, fingerprint, card)  # every rank reads the same records
    if target != run_dir:
        if main:
            print(_moved(run_dir, target, fingerprint, card))
            _hydra_record_follows(run_dir, target)
        cfg.run_dir = str(target)  # ${run_dir} in the model config (checkpoints) follows it
        run_dir = target
        _lock(run_dir, cfg, held)
    if not cfg.rerun and _reusable(run_dir, digest, fingerprint):
        if main:
            print(
                f"{run_dir}: already holds a complete run of this config; skipping "
                "(add rerun=true to train again)"
            )
        return runs.read_metrics(run_dir)
    distributed.barrier()  # every rank has read the old run.json before rank 0 rewrites it
    neutral = card.get("neutral_label")
    if not main:
        models.build(cfg.model).fit(dataset["train"], dataset.get("validation"), neutral)
        return {}
    previous = runs.read_run(run_dir)
    if previous and previous.get("status") != "complete":
        # "running": its process is gone, or it would hold the run folder's lock
        print(f"{run_dir}: found a {previous.get('status')} run; continuing in the same folder")

    labels = list(dataset["train"].features["label"].names)
    info = {
        "run_dir": str(run_dir),
        "dataset": cfg.dataset.name,
        "dataset_fingerprint": fingerprint,
        "dataset_round": runs.dataset_round(card),
        "dataset_built_at": card.get("built_at"),
        "labels": labels,
        "neutral_label": neutral,
        "metric": headline_metric(cfg),  # the dataset's headline: compare ranks by it
        "model": cfg.model.get("name"),
        "seed": cfg.seed,
        "world_size": distributed.world_size(),
        "config_hash": digest,
        "overrides": runs.hydra_overrides(),
    }
    if extra:  # datasets whose train rows were added: name, fingerprint, rows, left_out
        info["auxiliary"] = extra
    runs.write_config(run_dir, cfg)
    with runs.recording(run_dir, info) as record:
        model = models.build(cfg.model)
        model.fit(dataset["train"], dataset.get("validation"), neutral_label=neutral)
        metrics = evaluate_configured(model, dataset, cfg, run_dir, neutral)
        record["warnings"] = health.warnings(metrics)
        policies = target_report(model)  # which policies have a classifier of their own
        card_text = model_card(record, cfg, metrics, policies=policies)
        # what the model saw, so that evaluation on any other split can refuse seen rows
        seen = {overlap.RECORD_FILE: overlap.training_record(dataset, card)}
        runs.save_model_atomic(model, run_dir / runs.MODEL_DIR, card_text, extra=seen)
        tracker = instantiate(cfg.logger)
        params = flatten(OmegaConf.to_container(cfg, resolve=True))
        name = f"{cfg.dataset.name}/{cfg.model.get('name')}/{run_dir.name}"
        record["tracker_run_id"] = tracker.log_run(name, params, metrics, run_dir)
    print_summary(run_dir, metrics, policies=policies, metric=headline_metric(cfg))
    return metrics


def print_summary(
    run_dir: str | Path,
    metrics: dict[str, Any],
    with_model: bool = True,
    policies: list[str] | None = None,
    metric: str = HEADLINE,
) -> None:
    """Tell the user where everything went, the headline numbers (``metric`` first) and any
    health warning."""
    run_dir = Path(run_dir)
    shown = ", ".join(f"{k}={metrics[k]:.3f}" for k in headline_keys(metric) if k in metrics)
    print(f"run directory: {run_dir}")
    print(f"  metrics:     {run_dir / runs.METRICS_FILE}  ({shown})")
    print(f"  predictions: {run_dir / runs.PREDICTIONS_DIR}/")
    print(f"  report:      {run_dir / REPORT_FILE}  (open it in a browser)")
    print(f"  also:        {run_dir}/classification_report_*.txt, confusion_matrix_*.png")
    if with_model:
        print(f"  model:       {run_dir / runs.MODEL_DIR}/  (card: {runs.MODEL_CARD})")
    for line in policies or []:
        print(f"  {line}")
    for line in health.warnings(metrics):  # last, where the eye lands: the scores above mean little
        print(f"WARNING: {line}")


def require_metric(metrics: dict[str, float], name: str) -> float:
    """The metric a sweep optimizes, with a clear message when the run did not produce it."""
    if name not in metrics:
        raise StanceError(
            problem(
                "optimized_metric",
                f"{name!r} is not among this run's metrics",
                "use validation/<metric> with the dataset's metric, one of "
                f"{sorted(k for k in metrics if k.count('/') == 1 and k[:11] == 'validation/')}",
            )
        )
    return metrics[name]
