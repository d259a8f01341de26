"""Inference: load a saved model, label paragraphs, and give whole articles a document stance."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance import models, runs
from stance.errors import StanceError, problem
from stance.metrics import stance_indices
from stance.models.base import StanceModel

NO_CLEAR_STANCE = "no clear stance"
DOCUMENT_RULE = (
    "mean of the paragraph probabilities over the stance-bearing paragraphs (those not predicted "
    "as the dataset's no-stance label, so reporting, captions and page furniture stay out); label "
    "= the stance label with the highest mean, or 'no clear stance' when fewer than "
    "{min_paragraphs} paragraphs bear a stance or the top two stance labels' means are less than "
    "{min_margin} apart"
)


class Predictor:
    """A loaded model behind the StanceModel contract: ``classes_``, ``predict``, ``predict_proba``.

    Both take a list of texts (and one target per text for target-aware models) and work in
    batches; a bare string is refused, since it would be read as a list of characters.
    """

    def __init__(self, model: StanceModel, path: Path, neutral_label: str | None = None) -> None:
        self.model = model
        self.path = path
        self.neutral_label = neutral_label  # the training dataset's no-stance label, or None

    @property
    def classes_(self) -> list[str]:
        """The label names, in the order of the probability columns."""
        return list(self.model.classes_)

    @property
    def uses_target(self) -> bool:
        """True when each text needs the policy (``target``) it speaks about."""
        return self.model.uses_target

    def predict(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """The label name of each text (``targets``: one policy per text, for target-aware ones)."""
        proba = self.predict_proba(texts, targets, batch_size)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(axis=1)]

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """Probabilities, shape (n_texts, len(classes_)), ``batch_size`` texts at a time."""
        for name, given in (("texts", texts), ("targets", targets)):
            if isinstance(given, str):
                what = f"{name} is one string, which would be read as {len(given)} characters"
                raise StanceError(problem("predict", what, f"pass a list: {name}=[{given[:30]!r}]"))
        texts = list(texts)
        if not texts:
            raise StanceError(problem("input", "no texts to label", "give at least one paragraph"))
        if targets is not None and len(targets) != len(texts):
            raise StanceError(
                problem("targets", f"{len(targets)} targets for {len(texts)} texts", "one each")
            )
        parts = []
        for start in range(0, len(texts), batch_size):
            batch_targets = None if targets is None else list(targets[start : start + batch_size])
            parts.append(self.model.predict_proba(texts[start : start + batch_size], batch_targets))
        return np.concatenate(parts)


def resolve_model_folder(path: str | Path) -> Path:
    """A model folder itself, or the ``model/`` folder of a run directory."""
    path = Path(path)
    if not path.exists():
        raise StanceError(problem(str(path), "no such file or folder", "give a run directory"))
    if models.is_model_folder(path):
        return path
    if models.is_model_folder(path / runs.MODEL_DIR):
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


def load_model(path: str | Path) -> Predictor:
    """Load a run directory or a model folder; returns a ``Predictor``."""
    from stance.data import overlap

    folder = resolve_model_folder(path)
    record = overlap.read_record(folder) or {}
    return Predictor(models.load(folder), folder, record.get("neutral_label"))


def document_stance(
    proba: np.ndarray,
    classes: Sequence[str],
    neutral: str | None,
    min_paragraphs: int = 2,
    min_margin: float = 0.1,
) -> tuple[str, np.ndarray, int]:
    """Document label, mean probabilities and number of paragraphs used (``DOCUMENT_RULE``)."""
    stance = stance_indices(classes, neutral)
    bearing = np.isin(proba.argmax(axis=1), stance)
    used = proba[bearing] if bearing.any() else proba
    mean = used.mean(axis=0)
    ranked = np.sort(mean[stance])[::-1]
    margin = ranked[0] - ranked[1] if len(ranked) > 1 else 1.0
    if bearing.sum() < min_paragraphs or margin < min_margin:
        return NO_CLEAR_STANCE, mean, int(bearing.sum())
    return classes[stance[int(mean[stance].argmax())]], mean, len(used)


def label_rows(
    predictor: Predictor,
    rows: list[dict[str, Any]],
    default_target: str | None = None,
    batch_size: int = 256,
    min_paragraphs: int = 2,
    min_margin: float = 0.1,
) -> list[dict[str, Any]]:
    """Paragraph rows with ``label`` and ``proba``, then one ``document`` row per ``doc_id``."""
    if not rows:
        raise StanceError(problem("input", "empty input: no paragraphs", "give some text"))
    targets = [row.get("target") or default_target for row in rows]
    if predictor.uses_target and any(t is None for t in targets):
        row = next(i for i, t in enumerate(targets) if t is None) + 1
        raise StanceError(
            problem(
                f"input row {row}",
                "this model was trained per policy and needs a target for every text",
                "add a `target` column or pass target='<policy>' on the command line",
            )
        )
    proba = predictor.predict_proba(
        [row["text"] for row in rows], targets if predictor.uses_target else None, batch_size
    )
    classes = predictor.classes_
    labels = [classes[i] for i in proba.argmax(axis=1)]
    out = []
    for row, target, label, p in zip(rows, targets, labels, proba, strict=True):
        given = {"target": target} if target is not None else {}
        out.append(
            {"level": "paragraph", **row, **given, "label": label, "proba": _proba(classes, p)}
        )
    docs: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.get("doc_id") is not None:
            docs.setdefault(str(row["doc_id"]), []).append(i)
    for doc_id, members in docs.items():
        label, mean, used = document_stance(
            proba[members], classes, predictor.neutral_label, min_paragraphs, min_margin
        )
        out.append(
            {
                "level": "document",
                "doc_id": doc_id,
                "label": label,
                "proba": _proba(classes, mean),
                "paragraphs": len(members),
                "paragraphs_used": used,
                "rule": DOCUMENT_RULE.format(min_paragraphs=min_paragraphs, min_margin=min_margin),
            }
        )
    return out


def _proba(classes: Sequence[str], p: np.ndarray) -> dict[str, float]:
    return {c: round(float(v), 6) for c, v in zip(classes, p, strict=True)}


def predict_command(cfg: Any) -> int:
    """``scripts/predict.py``: read ``cfg.input``, label it, write ``cfg.output``; rows written."""
    import sys

    from stance.predict_io import input_format, output_format, read_rows, write_rows

    predictor = load_model(cfg.model_path)
    rows = read_rows(cfg.input, input_format(cfg.input, cfg.input_format))
    doc = cfg.document
    out_rows = label_rows(
        predictor, rows, cfg.target, cfg.batch_size, doc.min_paragraphs, doc.min_margin
    )
    fmt = output_format(cfg.output, cfg.output_format)
    if cfg.output in (None, "-"):
        write_rows(out_rows, sys.stdout, fmt, predictor.classes_)
    else:
        path = Path(cfg.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            write_rows(out_rows, fh, fmt, predictor.classes_)
        print(f"wrote {len(out_rows)} rows to {path}", file=sys.stderr)
    return len(out_rows)


def model_path_argv(argv: Sequence[str]) -> list[str]:
    """Command-line ``model=PATH`` -> ``model_path=PATH``.

    ``configs/model/`` is a config group, so Hydra would read ``model=PATH`` as picking a model
    config; evaluate and predict take a saved model's path instead.
    """
    return [
        f"model_path={arg[len('model=') :]}" if arg.startswith("model=") else arg for arg in argv
    ]
