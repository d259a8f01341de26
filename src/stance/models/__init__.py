"""Model families behind one contract: a registry of trusted classes, ``build`` and ``load``."""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stance import runs
from stance.errors import StanceError, problem
from stance.models.base import MODEL_META_FILE, StanceModel


def _family_of(node: ast.ClassDef) -> str | None:
    """The string a class body assigns to ``family`` (``family = "tfidf"``), if any."""
    for stmt in node.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        value = getattr(stmt, "value", None)
        named = any(isinstance(t, ast.Name) and t.id == "family" for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value or None
    return None


@functools.cache
def registry() -> dict[str, str]:
    """Each family's name -> ``"module:Class"``, read from the source of this package's modules
    without importing them, so that a new family is its module and its YAML only, and loading a
    TF-IDF model never imports torch. Only classes in this package are ever named: the family in
    a model folder (untrusted) selects one of them, never a module of its own."""
    return scan(Path(__file__).parent, __name__)


def scan(root: Path, package: str) -> dict[str, str]:
    """Every class under ``root`` (the folder of ``package``) that states its ``family``."""
    found: dict[str, str] = {}
    for file in sorted(root.rglob("*.py")):
        module = ".".join((package, *file.relative_to(root).with_suffix("").parts))
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            family = _family_of(node) if isinstance(node, ast.ClassDef) else None
            if family and family in found:
                raise TypeError(f"family {family!r} is stated by {found[family]} and {module}")
            if family:
                found[family] = f"{module.removesuffix('.__init__')}:{node.name}"
    return found


def families() -> list[str]:
    """Every registered family's name (imports nothing)."""
    return sorted(registry())


def model_class(family: Any) -> type[StanceModel]:
    """The class registered for ``family``; only registered classes are ever loaded."""
    entry = registry().get(family) if isinstance(family, str) else None
    if entry is None:
        raise StanceError(
            problem(
                MODEL_META_FILE,
                f"family {family!r} is not one of {families()}",
                "was it written by another program or version? retrain the model",
            )
        )
    module, name = entry.split(":")
    return getattr(importlib.import_module(module), name)


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
