"""Soft voting over saved models: the (weighted) mean of their class probabilities.

Members are run directories or model folders of earlier runs (glob patterns allowed), trained on
the same label set. ``fit`` trains nothing: it loads the members and checks their labels, so an
ensemble run is evaluated and recorded like any other run. ``save`` copies the members into the
ensemble's folder, which therefore loads on its own.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np
from datasets import Dataset

from stance import models as registry
from stance.errors import StanceError, problem
from stance.models.base import StanceModel, read_meta, write_meta
from stance.models.folder_check import check_folder, ensemble_folder

MEMBERS_DIR = "members"


def expand_members(patterns: Sequence[str]) -> list[Path]:
    """Run directories or model folders matching ``patterns``, each pattern's matches sorted."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(str(pattern))) if glob.has_magic(str(pattern)) else [pattern]
        if not matches:
            raise StanceError(
                problem(
                    f"model.members: {pattern}",
                    "matches no run directory",
                    "train the member runs first, or fix the pattern",
                )
            )
        found += [Path(m) for m in matches]
    return found


class EnsembleStanceModel(StanceModel):
    """The weighted mean of the members' ``predict_proba``, columns aligned by label name."""

    family = "ensemble"
    check_folder = staticmethod(ensemble_folder)

    def __init__(self, members: Sequence[str] = (), weights: Sequence[float] | None = None) -> None:
        self.members = members  # patterns, as given; ``members_``: the folders they matched
        self.weights = weights  # one per member (after glob expansion); null: equal weights

    def check_params(self) -> None:
        """``members`` a list of paths or patterns, ``weights`` null or non-negative numbers."""
        if isinstance(self.members, str) or not all(isinstance(m, str) for m in self.members):
            fix = "e.g. 'model.members=[runs/D/tfidf_logreg,runs/D/minilm]'"
            raise StanceError(problem("model.members", f"{self.members!r} is not a list", fix))
        weights = [] if self.weights is None else list(self.weights)
        if not all(isinstance(w, int | float) and w >= 0 for w in weights):
            what = f"{self.weights!r} are not non-negative numbers"
            raise StanceError(problem("model.weights", what, "give one per member, or null"))

    def _set_members(self, models: list[StanceModel], names: list[str], classes: list[str]) -> None:
        """Keep loaded members (found at ``names``); check every one predicts exactly
        ``classes``."""
        for model, name in zip(models, names, strict=True):
            if sorted(model.classes_) != sorted(classes):
                raise StanceError(
                    problem(
                        f"model.members: {name}",
                        f"its labels {model.classes_} differ from the dataset's {classes}",
                        "ensemble only runs trained on the same label set",
                    )
                )
        weights = np.ones(len(models)) if self.weights is None else np.asarray(self.weights, float)
        if len(weights) != len(models) or (weights < 0).any() or weights.sum() == 0:
            raise StanceError(
                problem(
                    "model.weights",
                    f"{len(weights)} weights for {len(models)} members (or not positive)",
                    "give one non-negative weight per member, or weights=null",
                )
            )
        self.models_, self.classes_, self.weights_ = models, list(classes), weights / weights.sum()
        self.members_ = list(names)
        seen = [m.seen_targets_ for m in models if m.seen_targets_ is not None]
        self.seen_targets_ = sorted(set().union(*seen)) if seen else None

    def fit(
        self, train: Dataset, validation: Dataset | None = None, neutral_label: str | None = None
    ) -> Self:
        """Load the members (nothing is trained) and check they share the dataset's labels."""
        self.check_params()
        folders = expand_members(self.members)
        loaded = [_load_member(registry.resolve_model_folder(f)) for f in folders]
        self._set_members(loaded, [str(f) for f in folders], list(train.features["label"].names))
        return self

    @property
    def uses_target(self) -> bool:
        """True when any member wants the target."""
        return any(m.uses_target for m in getattr(self, "models_", []))

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Weighted mean of the members' probabilities, shape (n, len(classes_))."""
        total = np.zeros((len(texts), len(self.classes_)))
        for model, weight in zip(self.models_, self.weights_, strict=True):
            proba = model.predict_proba(texts, targets if model.uses_target else None)
            order = [model.classes_.index(c) for c in self.classes_]
            total += weight * proba[:, order]
        return total

    def save(self, path: str | Path) -> None:
        """Copy each member's model folder into ``members/<i>/`` and write the metadata."""
        folder = Path(path)
        for i, model in enumerate(self.models_):
            model.save(folder / MEMBERS_DIR / str(i))
        write_meta(
            folder,
            self.family,
            self.classes_,
            members=self.members_,
            weights=self.weights_.tolist(),
            seen_targets=self.seen_targets_,  # the union of the members' (read back from them)
        )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read an ensemble folder written by ``save``; each member is checked like any folder."""
        folder = Path(path)
        meta = read_meta(folder)
        parts = [folder / MEMBERS_DIR / str(i) for i in range(len(meta["members"]))]
        model = cls(meta["members"], meta["weights"])
        model._set_members([_load_member(p) for p in parts], meta["members"], meta["classes"])
        return model


def _load_member(folder: Path) -> StanceModel:
    """A member's model folder, checked (``check_folder``) before its family reads it."""
    check_folder(folder)
    return registry.load(folder)
