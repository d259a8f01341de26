"""Model families behind one contract: a registry of trusted classes, ``build`` and ``load``."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stance import runs
from stance.errors import StanceError, problem
from stance.models.base import MODEL_META_FILE, StanceModel

# family (written in stance_model.json) -> "module:Class"; imported on demand so that using the
# TF-IDF baselines never imports torch.
REGISTRY: dict[str, str] = {
    "tfidf": "stance.models.sklearn_models:TfidfStanceModel",
    "transformer": "stance.models.transformer.model:TransformerStanceModel",
    "ensemble": "stance.models.ensemble:EnsembleStanceModel",
    "hybrid": "stance.models.hybrid:HybridStanceModel",
    "setfit": "stance.models.setfit_model:SetFitStanceModel",
}

__all__ = [
    "MODEL_META_FILE",
    "REGISTRY",
    "StanceModel",
    "build",
    "is_model_folder",
    "load",
    "resolve_model_folder",
]


def model_class(family: str) -> type[StanceModel]:
    """The class registered for ``family``; only registered classes are ever loaded."""
    if family not in REGISTRY:
        raise StanceError(
            problem(
                MODEL_META_FILE,
                f"unknown model family {family!r}",
                f"known families: {sorted(REGISTRY)}; was the model written by another version?",
            )
        )
    module, name = REGISTRY[family].split(":")
    return getattr(importlib.import_module(module), name)


def build(model_cfg: DictConfig | dict[str, Any], **overrides: Any) -> StanceModel:
    """Instantiate a model config node; its ``name`` is for the config only, never the class."""
    from hydra.utils import instantiate

    # Resolve in place: the node's interpolations (e.g. ``${seed}``) point into the whole config.
    plain = (
        OmegaConf.to_container(model_cfg, resolve=True)
        if isinstance(model_cfg, DictConfig)
        else dict(model_cfg)
    )
    plain.pop("name", None)
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
