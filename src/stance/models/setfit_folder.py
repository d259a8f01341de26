"""Reading a saved SetFit folder as untrusted data: the encoder's module list and the skops head
are checked before anything they name is imported or used."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from stance.errors import StanceError, problem

# The only sentence-transformers modules a saved body may name in its modules.json: the file names
# classes to import, so a model folder from elsewhere could otherwise pick any importable class.
BODY_MODULES = {
    "sentence_transformers.models.Transformer",  # names written by sentence-transformers < 6
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
    "sentence_transformers.base.modules.transformer.Transformer",  # and by 6.x
    "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
    "sentence_transformers.sentence_transformer.modules.normalize.Normalize",
}


def load_head(file: Path, n_classes: int) -> LogisticRegression:
    """The skops head, refused unless it holds only a fitted LogisticRegression for the labels."""
    if not file.is_file():
        raise StanceError(problem(str(file.parent), f"no {file.name}", "retrain the model"))
    try:
        untrusted = sio.get_untrusted_types(file=file)
        head = None if untrusted else sio.load(file)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as err:
        what = f"not a readable skops file ({err})"
        raise StanceError(problem(str(file), what, "retrain the model")) from err
    ok = isinstance(head, LogisticRegression) and hasattr(head, "coef_")
    if not ok or set(np.asarray(head.classes_).tolist()) - set(range(n_classes)):
        what = "the head is not a fitted logistic regression over this model's classes"
        raise StanceError(problem(str(file), what, "retrain the model; load only your own"))
    return head


def load_body(source: str, where: str) -> Any:
    """A SentenceTransformer from a local folder (offline), after checking its modules.json."""
    from sentence_transformers import SentenceTransformer

    modules = Path(source) / "modules.json"
    if modules.is_file():
        try:
            types = {entry["type"] for entry in json.loads(modules.read_text())}
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise StanceError(problem(str(modules), f"unreadable ({err})", "retrain")) from err
        if types - BODY_MODULES:
            what = f"names modules outside the trusted list: {sorted(types - BODY_MODULES)}"
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
