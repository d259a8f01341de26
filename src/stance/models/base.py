"""The contract every model family answers, so training, evaluation and inference never branch."""

from __future__ import annotations

import copy
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
from datasets import Dataset

from stance.models.batching import labels_from_proba
from stance.models.calibration import read_temperature

# Written into every model folder; `stance.models.load` reads it to pick the family.
MODEL_META_FILE = "stance_model.json"
Init = TypeVar("Init", bound=Callable[..., None])


class StanceModel(ABC):
    """A stance classifier with scikit-learn's estimator contract.

    ``__init__`` takes explicit keyword hyperparameters and stores each as given under its own
    name (``get_params`` and ``clone`` read them back through the signature); ``fit`` checks them
    first (``check_params``), as scikit-learn validates in ``fit``, not in ``__init__``. ``fit``
    takes Hugging Face ``Dataset`` splits with a ``text`` column, a ``label`` ClassLabel column
    (its names are the label set) and optionally a ``target`` column, and returns ``self``. After
    ``fit`` (or ``load``), ``classes_`` holds the label names in the dataset's declared order;
    ``predict_proba`` columns follow that order.
    """

    #: The family's name, written to ``stance_model.json``; stated here only (``stance.models``
    #: finds the classes by reading this line in each module's source).
    family: ClassVar[str] = ""
    # What a family can do, declared so that callers never probe with getattr or isinstance:
    #: ``stance.export.onnx`` writes it as one network (its ``exportable`` gate).
    supports_onnx: ClassVar[bool] = False
    #: ``fit`` trains data-parallel under torchrun / accelerate launch; others refuse many ranks.
    data_parallel: ClassVar[bool] = False
    #: ``predict_proba(..., calibrated=False)`` gives the probabilities before ``temperature_``.
    calibrated: ClassVar[bool] = False
    classes_: list[str]
    #: The targets (policies) seen in training, sorted; None when the model never reads a target.
    #: Predictions flag a target outside this list as ``unseen_target``.
    seen_targets_: list[str] | None = None
    #: What ``fit`` observed about its own optimisation, for the stall check: e.g.
    #: ``{"loss_first": 1.098, "loss_last": 0.41, "steps": 200}``; empty for closed-form fits.
    fit_log_: dict[str, Any] | None = None
    #: The softmax temperature fitted on validation (families that declare ``calibrated``); 1: none.
    temperature_: float = 1.0

    @classmethod
    def param_names(cls) -> list[str]:
        """The hyperparameters: the constructor's keyword arguments, in order."""
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        for p in parameters:
            if p.kind is not p.POSITIONAL_OR_KEYWORD:  # as scikit-learn: no *args, no **kwargs
                raise TypeError(f"{cls.__name__}.__init__ takes {p}: name every hyperparameter")
        return [p.name for p in parameters]

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters as given to the constructor (``type(self)(**params)`` rebuilds)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def clone(self) -> Self:
        """A fresh, unfitted model with the same hyperparameters (scikit-learn's ``clone``)."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def check_params(self) -> None:
        """Refuse hyperparameters that cannot work (a StanceError naming ``model.<key>``);
        ``fit`` calls it before reading any data or loading any weights; none by default."""
        return None

    @abstractmethod
    def fit(
        self, train: Dataset, validation: Dataset | None = None, neutral_label: str | None = None
    ) -> Self:
        """Train on ``train``; ``validation`` may drive early stopping or calibration.

        ``neutral_label``: the dataset's no-stance label (or None), which F_avg leaves out.
        """

    @abstractmethod
    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Class probabilities, shape (n_texts, len(classes_)), rows sum to 1."""

    def predict(self, texts: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
        """Label names (strings from ``classes_``), one per text."""
        return labels_from_proba(self.predict_proba(texts, targets), self.classes_)

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the model into the folder ``path`` (created if needed), in its native format."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model folder written by ``save``."""

    def write_meta(self, folder: str | Path, **extra: Any) -> None:
        """``stance_model.json`` of a fitted model: its family, labels, the targets it saw and its
        temperature, then the family's own ``extra`` facts."""
        seen, temperature = self.seen_targets_, self.temperature_
        write_meta(folder, self.family, self.classes_, seen_targets=seen, temperature=temperature,
                   **extra)  # fmt: skip

    def read_meta(self, meta: dict[str, Any], file: Path) -> None:
        """Set what ``write_meta`` wrote from a folder's metadata (``file``: where, for errors)."""
        self.classes_ = list(meta["classes"])
        self.seen_targets_ = meta.get("seen_targets")
        self.temperature_ = read_temperature(meta, file)

    @staticmethod
    def check_folder(folder: Path, meta: dict[str, Any]) -> None:
        """This family's checks of a saved folder (the files it needs, its own metadata), run
        by ``stance.models.folder_check`` after those every folder gets and before ``load``;
        raise a StanceError naming the file. None by default (``folder_check.needs`` helps)."""
        return None

    @property
    def uses_target(self) -> bool:
        """True when the model was trained with ``target`` and wants it at predict time."""
        return False

    @property
    def requires_target(self) -> bool:
        """True when a text without a target cannot be labelled (a model that reads targets but
        can label a text from its shared weights alone answers False)."""
        return self.uses_target


def extends(parent: type[StanceModel]) -> Callable[[Init], Init]:
    """For a subclass ``__init__(self, <its own keywords>, **inherited)``: the signature of its own
    keywords, then ``parent``'s others, so that ``param_names``, ``get_params``, ``clone``, the
    misspelt-key check and the README's tables see every hyperparameter by name while the parent's
    list (and its defaults and help lines) is written once, in the parent. A keyword that is in
    neither is refused by the parent's ``__init__``, as for any constructor."""

    def decorate(init: Init) -> Init:
        signature = inspect.signature(init)
        own = list(signature.parameters.values())
        if own[-1].kind is not inspect.Parameter.VAR_KEYWORD:
            raise TypeError(f"{init.__qualname__} must end with **inherited to extend {parent}")
        inherited = list(inspect.signature(parent.__init__).parameters.values())[1:]
        restated = {p.name: p for p in own[:-1]}  # a new default for one of the parent's
        new = [p for p in own[:-1] if p.name not in {q.name for q in inherited}]
        merged = new + [restated.get(p.name, p) for p in inherited]
        whole = signature.replace(parameters=merged)
        init.__signature__ = whole  # type: ignore[attr-defined]
        return init

    return decorate


def write_meta(path: str | Path, family: str, classes: Sequence[str], **extra: Any) -> None:
    """Write ``stance_model.json``, the marker that makes a folder a stance model folder."""
    meta = {"family": family, "classes": list(classes), **extra}
    (Path(path) / MODEL_META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def read_meta(path: str | Path) -> dict[str, Any]:
    """Read ``stance_model.json`` from a model folder."""
    return json.loads((Path(path) / MODEL_META_FILE).read_text())
