"""What a run writes into its run directory, and how it is read back (see docs/architecture.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stance import folders, neutral_keys  # noqa: F401 (registers stance_unnamed_keys)
from stance.errors import Interrupted, StanceError, problem

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
PREDICTIONS_DIR = "predictions"
MODEL_DIR = "model"
MODEL_CARD = "README.md"
STATUSES = ("running", "complete", "failed", "interrupted")
MAX_NAME = 120  # characters of one folder name from overrides; longer ones end in a digest
LIBRARIES = ("stance", "scikit-learn", "skops", "datasets", "transformers", "torch", "numpy")


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# a number standing alone as an override's value or a list item: `=4.0`, `[1e-3,2]`
_VALUE = re.compile(rf"(?<=[=,\[]){_NUMBER}(?=[,\]]|$)")


def normal_number(value: str) -> str:
    """``4.0`` and ``4`` -> ``4``, ``1e-3`` -> ``0.001``: one spelling per number (any other text
    as it is), so ``model.C=4`` and ``model.C=4.0`` name one config."""
    number = float(value) if re.fullmatch(_NUMBER, value) else None
    if number is None:
        return value
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def normal_numbers(text: str) -> str:
    """Every number in ``text`` that stands alone as a value (after ``=``, in a list) normalised."""
    return _VALUE.sub(lambda m: normal_number(m.group(0)), str(text))


def slug(text: str) -> str:
    """One folder name from overrides or a path, that can be pasted back into ``model=PATH``.

    ``seed=3,model.C=0.5`` -> ``seed-3+model.C-0.5``; ``runs/a/b`` -> ``runs_a_b``; anything
    Hydra's override grammar rejects (``=``, ``,``, brackets, quotes, spaces) is replaced;
    numbers are written one way (``model.C=4.0`` -> ``model.C-4``).
    """
    text = normal_numbers(text).replace("=", "-").replace(",", "+")
    name = re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_") or "default"
    if len(name) > MAX_NAME:  # file systems stop at 255 bytes: keep a head, add a digest of all
        digest = hashlib.blake2b(name.encode(), digest_size=6).hexdigest()
        name = f"{name[: MAX_NAME - 14].rstrip('_+.-')}+{digest}"
    return name


# Resolvers used by hydra.run.dir / hydra.sweep.subdir in configs/*.yaml; importing stance.runs
# (every script does) registers them before Hydra resolves the output folder. `stance_dirname`
# names the last part of a run directory: the overrides that change the result, or `default`.
for _name in ("stance_dirname", "stance_slug"):
    if not OmegaConf.has_resolver(_name):
        OmegaConf.register_new_resolver(_name, slug)


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_text(path: str | Path, text: str) -> None:
    """Write a file atomically: a temp file in the same folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with folders.replaced(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically (see ``write_text``)."""
    write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file of the run record, with a clear message when it is missing or broken."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise StanceError(problem(str(path), "missing", "is this a run directory?")) from err
    except json.JSONDecodeError as err:
        raise StanceError(
            problem(f"{path}:{err.lineno}", f"not valid JSON ({err.msg})", "rerun the run")
        ) from err


def git_commit() -> str | None:
    """The current git commit of the working tree (``+dirty`` if modified), or None."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("+dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that decide a run's result."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


# -- run.json ---------------------------------------------------------------------------------
def read_run(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``run.json``, or None when the folder has none."""
    path = Path(run_dir) / RUN_FILE
    return read_json(path) if path.is_file() else None


def is_complete(run_dir: str | Path) -> bool:
    """True when ``run.json`` says ``complete`` (written last, so everything else is there)."""
    info = read_run(run_dir)
    return bool(info) and info.get("status") == "complete"


def hydra_overrides() -> list[str]:
    """The command-line overrides of this Hydra job (empty outside Hydra)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def start_run(run_dir: str | Path, info: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``run.json`` with ``status: running``; returns the record for ``end_run``."""
    record = {
        "status": "running",
        "started": now(),
        "ended": None,
        **info,
        "git_commit": git_commit(),
        "libraries": library_versions(),
    }
    write_json(Path(run_dir) / RUN_FILE, record)
    return record


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Inside: SIGTERM raises ``Interrupted`` (in the main thread; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def recording(run_dir: str | Path, info: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """``running`` on entry, ``complete`` on exit, ``interrupted`` on SIGTERM or Ctrl-C (the same
    command resumes it), ``failed`` with the error on any other exception."""
    record = start_run(run_dir, info)
    try:
        with _sigterm_interrupts():
            yield record
    except (Interrupted, KeyboardInterrupt) as err:
        name = err.signal_name if isinstance(err, Interrupted) else "SIGINT"
        with contextlib.suppress(OSError):
            end_run(run_dir, record, "interrupted", error=f"stopped by {name}")
        raise
    except BaseException as err:
        with contextlib.suppress(OSError):  # a full disk must not hide the error that stopped it
            end_run(run_dir, record, "failed", error=f"{type(err).__name__}: {err}")
        raise
    end_run(run_dir, record, "complete")


def end_run(run_dir: str | Path, record: dict[str, Any], status: str, **extra: Any) -> None:
    """Rewrite ``run.json`` with its final ``status``: complete, failed or interrupted."""
    assert status in STATUSES
    record.update(status=status, ended=now(), **extra)
    write_json(Path(run_dir) / RUN_FILE, record)


# -- dataset rounds ---------------------------------------------------------------------------
def dataset_round(card: Mapping[str, Any]) -> dict[str, Any]:
    """The labelling round a dataset card names, as ``run.json`` records it: ``{"name",
    "index"}``. A card from before rounds were recorded is round 0."""
    given = card.get("round")
    given = given if isinstance(given, Mapping) else {}
    index = int(given.get("index") or 0)
    return {"name": str(given.get("name") or f"round {index}"), "index": index}


def round_title(dataset_round: Mapping[str, Any] | None, built_at: str | None) -> str:
    """``round 1 (built 2026-12-07)``: a dataset round by name and build date, not by hash."""
    name = (dataset_round or {}).get("name") or "round 0"
    return f"{name} (built {built_at[:10]})" if built_at else str(name)


# -- config, metrics, predictions -------------------------------------------------------------
def write_config(run_dir: str | Path, cfg: DictConfig) -> None:
    """Write the resolved config as ``config.yaml``."""
    write_text(Path(run_dir) / CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))


def read_config(run_dir: str | Path) -> DictConfig:
    """The resolved config a run was made with."""
    return OmegaConf.load(Path(run_dir) / CONFIG_FILE)


def trained_dataset(model_folder: str | Path) -> DictConfig | None:
    """The dataset config a model was trained with, from its run's config.yaml (None for a
    model folder outside a run directory)."""
    run_dir = Path(model_folder).parent
    return read_config(run_dir).dataset if (run_dir / CONFIG_FILE).is_file() else None


def write_metrics(run_dir: str | Path, metrics: Mapping[str, float]) -> None:
    """Write ``metrics.json``: flat ``split/metric`` keys."""
    write_json(Path(run_dir) / METRICS_FILE, dict(metrics))


def read_metrics(run_dir: str | Path) -> dict[str, float]:
    """Read ``metrics.json`` of a run."""
    return read_json(Path(run_dir) / METRICS_FILE)


def predictions_path(run_dir: str | Path, split: str) -> Path:
    """Where the per-example predictions of ``split`` go."""
    return Path(run_dir) / PREDICTIONS_DIR / f"{split}.jsonl"


def write_predictions(run_dir: str | Path, split: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write ``predictions/<split>.jsonl``, one JSON object per example."""
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    write_text(predictions_path(run_dir, split), lines)


def read_predictions(run_dir: str | Path, split: str) -> list[dict[str, Any]]:
    """Read ``predictions/<split>.jsonl`` back as a list of dicts."""
    path = predictions_path(run_dir, split)
    if not path.is_file():
        raise StanceError(problem(str(path), "no predictions for this split", "rerun the run"))
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# -- the model folder -------------------------------------------------------------------------
def save_model_atomic(
    model: Any, dest: str | Path, card: str, extra: Mapping[str, Any] | None = None
) -> Path:
    """Save ``model``, its card and ``extra`` JSON files into a temp folder, then rename it.

    A run killed mid-save leaves only the temp folder (never a ``model/`` that loads half-written),
    which the next save removes (``stance.folders.clean_stale_swaps``).
    """
    dest = Path(dest)
    tmp = folders.temp_folder(dest)
    try:
        model.save(tmp)
        (tmp / MODEL_CARD).write_text(card)
        for name, obj in (extra or {}).items():
            write_json(tmp / name, obj)
        folders.swap_in(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when swapped in
    return dest
