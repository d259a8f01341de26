"""Reading a saved SetFit folder as untrusted data: the encoder's module list and the skops head
are checked before anything they name is imported or used."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import skops.io as sio
from sklearn.linear_model import LogisticRegression

from stance.errors import StanceError, problem
from stance.models.trusted import check, check_label_ids, check_label_names, load_skops, refuse

# The only sentence-transformers modules a saved body may name in its modules.json: the file names
# classes to import, so a model folder from elsewhere could otherwise pick any importable class.
BODY_MODULES = {
    "sentence_transformers.models.Transformer",  # names written by sentence-transformers < 6
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
    "sentence_transformers.base.modules.transformer.Transformer",  # and by 6.x
    "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
    "sentence_transformers.sentence_transformer.modules.normalize.Normalize",
    "sentence_transformers.base.modules.normalize.Normalize",  # what 6.3 writes for MiniLM's
}


def save_head(head: LogisticRegression, file: Path, classes: Sequence[str]) -> None:
    """Write the head with the label names of its columns, which ``load_head`` checks."""
    sio.dump({"head": head, "classes": list(classes)}, file)


def load_head(file: Path, classes: Sequence[str]) -> LogisticRegression:
    """The skops head, refused unless it holds only a fitted LogisticRegression, with allowed
    settings (``stance.models.trusted``), over ``classes`` (stance_model.json) in their order."""
    state = load_skops(file, checked=False)
    # heads saved before the label names were stored are a bare LogisticRegression
    stored = state if type(state) is not dict else state.get("head")
    ok = type(stored) is LogisticRegression and hasattr(stored, "coef_")
    if not ok or (type(state) is dict and set(state) != {"head", "classes"}):
        what = "the head is not a fitted logistic regression over this model's classes"
        refuse(file, what, "retrain the model; load only your own")
    check(stored, file, "the head")
    check_label_ids(stored, classes, file, "the head")
    check_label_names(state.get("classes") if type(state) is dict else None, classes, file)
    return stored


def load_body(source: str, where: str) -> Any:
    """A SentenceTransformer from a local folder (offline), after checking its modules.json."""
    from sentence_transformers import SentenceTransformer

    modules = Path(source) / "modules.json"
    if modules.is_file():
        try:
            entries = json.loads(modules.read_text())
            types = {entry["type"] for entry in entries}
            paths = [entry.get("path", "") for entry in entries]
        except (
            json.JSONDecodeError,
            UnicodeDecodeError,
            KeyError,
            TypeError,
            AttributeError,
        ) as err:
            raise StanceError(problem(str(modules), f"unreadable ({err})", "retrain")) from err
        if types - BODY_MODULES:
            what = f"names modules outside the trusted list: {sorted(types - BODY_MODULES)}"
            raise StanceError(problem(str(modules), what, "load only encoders you trust"))
        outside = [p for p in paths if type(p) is not str or not _inside(p)]
        if outside:
            what = f"names module folders outside the encoder's folder: {outside}"
            raise StanceError(problem(str(modules), what, "load only encoders you trust"))
    local = Path(source).is_dir()
    try:
        return SentenceTransformer(
            source, device="cpu", local_files_only=local, trust_remote_code=False
        )
    except (OSError, ValueError) as err:
        fix = "point model.encoder at a local sentence-transformers or Hugging Face folder"
        what = f"cannot load an encoder from {source!r}: {err}"
        raise StanceError(problem(where, what, fix)) from err


def _inside(path: str) -> bool:
    """True for a relative path that stays inside its folder ("" or "1_Pooling", not "../x")."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return not path.startswith(("/", "\\")) and ":" not in path and ".." not in parts
