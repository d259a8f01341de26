"""Loading a saved model for inference: ``load_model`` and the ``Predictor`` it returns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance import models
from stance.data import overlap
from stance.errors import StanceError, problem
from stance.models.base import StanceModel
from stance.models.batching import batched_proba, labels_from_proba
from stance.models.folder_check import FIX, check_folder
from stance.models.targets import closest_target, unseen_targets

PROBE = "The senator said the policy would matter for voters."


class Predictor:
    """A loaded model behind the StanceModel contract: ``classes_``, ``predict``, ``predict_proba``.

    Both take a list of texts (and one target per text for target-aware models) and work in
    batches; a bare string is refused, since it would be read as a list of characters.
    """

    def __init__(
        self,
        model: StanceModel,
        path: Path,
        neutral_label: str | None = None,
        label_words: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.path = path
        self.neutral_label = neutral_label  # the training dataset's no-stance label, or None
        # label -> the dataset's own word for it (stance.data.label_words), or None
        self.label_words = label_words

    @property
    def classes_(self) -> list[str]:
        """The label names, in the order of the probability columns."""
        return list(self.model.classes_)

    @property
    def uses_target(self) -> bool:
        """True when the model reads the policy (``target``) each text speaks about."""
        return self.model.uses_target

    @property
    def requires_target(self) -> bool:
        """True when a text without a target cannot be labelled (a target-aware model whose
        shared weights alone can label it reads targets, ``uses_target``, but needs none)."""
        return self.model.requires_target

    @property
    def seen_targets(self) -> list[str] | None:
        """The targets (policies) seen in training; None when the model ignores the target."""
        seen = self.model.seen_targets_
        return None if seen is None else list(seen)

    def unseen_targets(self, targets: Sequence[str | None]) -> list[str]:
        """The distinct ``targets`` the model never saw in training (their rows are labelled by
        the shared weights alone, and flagged ``unseen_target`` in predict outputs)."""
        return unseen_targets(self.seen_targets, targets)

    def closest_target(self, target: str) -> str | None:
        """The seen target that ``target`` most likely misspells, or None."""
        return closest_target(target, self.seen_targets)

    def predict(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """The label name of each text (``targets``: one policy per text, for target-aware ones)."""
        return labels_from_proba(self.predict_proba(texts, targets, batch_size), self.classes_)

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
        self._need_targets(targets)
        n_classes = len(self.classes_)
        return batched_proba(self.model.predict_proba, texts, targets, batch_size, n_classes)

    def _need_targets(self, targets: Sequence[str | None] | None) -> None:
        """Stop with the Python fix when a model trained per policy is given a text without one."""
        if not self.requires_target:
            return
        empty = None if targets is None else next((i for i, t in enumerate(targets) if not t), None)
        if targets is not None and empty is None:
            return
        known = self.seen_targets or []
        where = "predict(texts)" if targets is None else f"predict(..., targets): targets[{empty}]"
        what = f"this model was trained per policy ({', '.join(known)}) and needs a target for " + (
            "every text; none was given" if targets is None else "every text; this one is empty"
        )
        example = known[0] if known else "the policy"
        fix = (
            f"pass one policy per text with the targets keyword: "
            f"predictor.predict(texts, targets=[{example!r}] * len(texts)) (predict_proba alike)"
        )
        raise StanceError(problem(where, what, fix))


def load_model(path: str | Path) -> Predictor:
    """Load a run directory or a model folder; returns a ``Predictor``.

    The folder is data from anywhere: it is checked first (``check_folder``, and each family's
    ``load`` checks what it reads), then asked to label one text, so a corrupt or inconsistent
    folder stops here with a message naming it, not with a traceback in the middle of a run.
    """
    folder = models.resolve_model_folder(path)
    check_folder(folder)
    try:
        model = models.load(folder)
    except StanceError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OSError) as err:
        what = f"the model folder cannot be loaded ({type(err).__name__}: {err})"
        raise StanceError(problem(str(folder), what, FIX)) from err
    record = overlap.read_record(folder) or {}
    predictor = Predictor(model, folder, record.get("neutral_label"), record.get("label_words"))
    probe(predictor)
    return predictor


def probe(predictor: Predictor) -> None:
    """Label one short text: a folder whose parts disagree (vocabulary, weights, labels) fails
    here, when it is loaded, rather than on the first real request."""
    seen = predictor.seen_targets or ["a policy"]
    targets = [seen[0]] if predictor.uses_target else None
    try:
        proba = np.asarray(predictor.model.predict_proba([PROBE], targets), dtype=float)
    except Exception as err:  # anything: the parts came from a folder, not from this code
        what = f"it cannot label a text ({type(err).__name__}: {err})"
        raise StanceError(problem(str(predictor.path), what, FIX)) from err
    if proba.shape != (1, len(predictor.classes_)) or not np.isfinite(proba).all():
        labels = len(predictor.classes_)
        what = f"it gives probabilities of shape {proba.shape} for one text and {labels} labels"
        raise StanceError(problem(str(predictor.path), what, FIX))
    if abs(proba.sum() - 1) > 1e-3 or (proba < -1e-6).any():
        what = f"its probabilities {proba.round(3).tolist()} do not sum to 1"
        raise StanceError(problem(str(predictor.path), what, FIX))
