"""Model families behind one contract: a registry of trusted classes, ``build`` and ``load``."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stance import runs
from stance.errors import StanceError, problem
from stance.models.base import MODEL_META_FILE, StanceModel

# The trusted classes, as "module:Class" so that loading imports only the module it needs: a
# TF-IDF model never imports torch. Each class states its `family` (the name in stance_model.json)
# once, in its own body; `model_class` imports in this order, torch-free modules first, until one
# answers the name.
CLASSES: tuple[str, ...] = (
    "stance.models.sklearn_models:TfidfStanceModel",
    "stance.models.ensemble:EnsembleStanceModel",
    "stance.models.hybrid:HybridStanceModel",
    "stance.models.setfit_model:SetFitStanceModel",
    "stance.models.transformer.model:TransformerStanceModel",
)

__all__ = [
    "CLASSES",
    "MODEL_META_FILE",
    "StanceModel",
    "build",
    "families",
    "is_model_folder",
    "load",
    "model_class",
    "resolve_model_folder",
]


def _classes() -> Iterator[type[StanceModel]]:
    """The registered classes in ``CLASSES`` order, each imported when it is reached."""
    for entry in CLASSES:
        module, name = entry.split(":")
        yield getattr(importlib.import_module(module), name)


def families() -> list[str]:
    """Every registered family's name (imports every family, torch included)."""
    return [cls.family for cls in _classes()]


def model_class(family: Any) -> type[StanceModel]:
    """The class registered for ``family``; only registered classes are ever loaded."""
    found = next((cls for cls in _classes() if cls.family == family), None)
    if found is None:
        raise StanceError(
            problem(
                MODEL_META_FILE,
                f"family {family!r} is not one of {sorted(families())}",
                "was it written by another program or version? retrain the model",
            )
        )
    return found


def build(model_cfg: DictConfig | dict[str, Any], **overrides: Any) -> StanceModel:
    """Instantiate a model config node; its ``name`` is for the config only, never the class."""
    from hydra.utils import get_class, instantiate

    # Resolve in place: the node's interpolations (e.g. ``${seed}``) point into the whole config.
    plain = (
        OmegaConf.to_container(model_cfg, resolve=True)
        if isinstance(model_cfg, DictConfig)
        else dict(model_cfg)
    )
    plain.pop("name", None)
    try:
        cls = get_class(plain["_target_"])
    except Exception:  # instantiate below names a bad _target_ in its own words
        cls = None
    if isinstance(cls, type) and issubclass(cls, StanceModel):  # a misspelt key, named
        unknown = sorted(set(plain) - {"_target_", *cls.param_names()} - set(overrides))
        if unknown:
            fix = f"{cls.__name__} takes {', '.join(cls.param_names())}"
            raise StanceError(problem("model", f"unknown hyperparameters {unknown}", fix))
    return instantiate(plain, _convert_="all", **overrides)


def is_model_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder holding ``stance_model.json``."""
    return (Path(path) / MODEL_META_FILE).is_file()


def load(path: str | Path) -> StanceModel:
    """Load a model folder written by any registered family's ``save``."""
    folder = Path(path)
    if not is_model_folder(folder):
        raise StanceError(
            problem(
                str(folder),
                f"not a model folder (no {MODEL_META_FILE})",
                "pass a run directory or its model/ folder written by scripts/train.py",
            )
        )
    from stance.models.folder_check import check_folder  # it imports this package (REGISTRY)

    meta = check_folder(folder)  # a folder is data from anywhere: links, JSON, required files
    return model_class(meta.get("family", "")).load(folder)


def resolve_model_folder(path: str | Path) -> Path:
    """A model folder itself, or the ``model/`` folder of a run directory."""
    path = Path(path)
    if not path.exists():
        raise StanceError(problem(str(path), "no such file or folder", "give a run directory"))
    if is_model_folder(path):
        return path
    if is_model_folder(path / runs.MODEL_DIR):
        return path / runs.MODEL_DIR
    info = runs.read_run(path) if path.is_dir() else None
    why = f" (its run.json says {info.get('status')!r})" if info else ""
    raise StanceError(
        problem(
            str(path),
            f"not a model folder nor a run directory holding a finished model{why}",
            "pass a run directory written by scripts/train.py (runs/...) or its model/ folder",
        )
    )
