"""TF-IDF baselines (logistic regression, calibrated linear SVM) behind the StanceModel contract."""

from __future__ import annotations

import inspect
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
import skops.io as sio
from datasets import Dataset
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from stance.errors import StanceError, problem
from stance.models.base import StanceModel, read_meta, write_meta

SKOPS_FILE = "model.skops"
TARGET_MODES = ("none", "features", "per_target")
CLASSIFIERS = ("logreg", "svm")

# The only types a model.skops may hold beyond skops' own defaults; anything else refuses to load.
TRUSTED_TYPES = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]


class TfidfStanceModel(StanceModel):
    """Word + character TF-IDF n-grams into a linear classifier (``logreg`` or calibrated ``svm``).

    ``target_mode`` decides how a ``target`` column is used when the training data has one:
    ``none`` ignores it; ``features`` adds a copy of every n-gram feature per target (shared plus
    target-specific weights, one model); ``per_target`` trains one classifier per target that has
    at least ``min_target_examples`` training rows (and every class), and a text-only global one
    for the other targets and for targets unseen in training.
    """

    family = "tfidf"

    def __init__(
        self,
        classifier: str = "logreg",
        C: float = 1.0,
        word_ngrams: Sequence[int] = (1, 2),
        char_ngrams: Sequence[int] | None = (2, 5),
        min_df: int = 1,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        class_weight: str | None = "balanced",
        target_mode: str = "per_target",
        min_target_examples: int = 100,
        calibration_folds: int = 3,
        max_iter: int = 2000,
        seed: int = 0,
    ) -> None:
        if classifier not in CLASSIFIERS:
            raise StanceError(
                problem(
                    "model.classifier", f"unknown classifier {classifier!r}", f"use {CLASSIFIERS}"
                )
            )
        if target_mode not in TARGET_MODES:
            raise StanceError(
                problem("model.target_mode", f"unknown mode {target_mode!r}", f"use {TARGET_MODES}")
            )
        self.classifier = classifier
        self.C = C
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams) if char_ngrams else None
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.class_weight = class_weight
        self.target_mode = target_mode
        self.min_target_examples = min_target_examples
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready; written to ``stance_model.json``."""
        names = {
            name: None
            for cls in type(self).__mro__
            if issubclass(cls, TfidfStanceModel)
            for name, param in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and param.kind is not param.VAR_KEYWORD
        }  # a subclass's own arguments, then the TF-IDF ones it passes on
        return {name: _plain(getattr(self, name)) for name in names}

    @property
    def uses_target(self) -> bool:
        """True when some target got its own weights, so predictions need the target."""
        return bool(self.targets_)

    # -- training -------------------------------------------------------------------------------
    def build_features(self) -> FeatureUnion:
        """The unfitted word + character TF-IDF feature union these hyperparameters describe."""
        parts = [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=self.word_ngrams,
                    min_df=self.min_df,
                    max_features=self.max_features,
                    sublinear_tf=self.sublinear_tf,
                    lowercase=True,
                ),
            )
        ]
        if self.char_ngrams:
            parts.append(
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=self.char_ngrams,
                        min_df=self.min_df,
                        max_features=self.max_features,
                        sublinear_tf=self.sublinear_tf,
                    ),
                )
            )
        return FeatureUnion(parts)

    def build_classifier(self, y: np.ndarray) -> Any:
        """The unfitted classifier for labels ``y`` (folds for calibration depend on them)."""
        if self.classifier == "logreg":
            return LogisticRegression(
                C=self.C,
                class_weight=self.class_weight,
                max_iter=self.max_iter,
                random_state=self.seed,
            )
        svm = LinearSVC(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.seed
        )
        # Folds cannot outnumber the rarest class; Platt scaling on held-out folds gives probas.
        folds = max(2, min(self.calibration_folds, int(np.bincount(y).min())))
        return CalibratedClassifierCV(svm, cv=folds, method="sigmoid")

    def fit(
        self, train: Dataset, validation: Dataset | None = None, neutral_label: str | None = None
    ) -> Self:
        """Fit features and classifier(s) on ``train``; ``validation`` is not used."""
        self.classes_ = list(train.features["label"].names)
        texts, y = list(train["text"]), np.asarray(train["label"])
        use_target = self.target_mode != "none" and "target" in train.column_names
        self.targets_ = sorted(set(train["target"])) if use_target else []
        self.vectorizer_ = self.build_features()
        targets = list(train["target"]) if use_target else None
        x = self.transform(texts, targets if "target" in train.column_names else None, fit=True)
        self.classifier_ = self.build_classifier(y).fit(self._features(x, targets), y)
        self.per_target_ = {}
        if self.target_mode == "per_target" and targets is not None:
            tarr = np.asarray(targets, dtype=object)
            for target in self.targets_:
                rows = np.flatnonzero(tarr == target)
                counts = np.bincount(y[rows], minlength=len(self.classes_))
                # Too few rows, or a class missing (or seen once): the global model is better.
                if len(rows) >= self.min_target_examples and counts.min() > 1:
                    self.per_target_[target] = self.build_classifier(y[rows]).fit(x[rows], y[rows])
            self.targets_ = sorted(self.per_target_)
        return self

    def transform(
        self, texts: Sequence[str], targets: Sequence[str] | None, fit: bool = False
    ) -> sp.csr_matrix:
        """The texts' feature rows (fitting the vectorizer first with ``fit``)."""
        vectorize = self.vectorizer_.fit_transform if fit else self.vectorizer_.transform
        return sp.csr_matrix(vectorize(list(texts)))

    def _features(self, x: sp.csr_matrix, targets: Sequence[str] | None) -> sp.csr_matrix:
        """Shared n-grams plus, in ``features`` mode, one target-specific copy per known target."""
        if self.target_mode != "features" or not self.targets_:
            return x
        x = sp.csr_matrix(x)
        n_targets, width = len(self.targets_), x.shape[1]
        index = {t: i for i, t in enumerate(self.targets_)}
        slot = np.array([index.get(t, -1) for t in targets or [None] * x.shape[0]])
        # Unknown targets get no copy (shared weights only); known ones a shifted copy + a bias.
        known = np.repeat(slot >= 0, np.diff(x.indptr))
        shift = np.repeat(np.maximum(slot, 0), np.diff(x.indptr)) * width
        copy = sp.csr_matrix(
            (x.data * known, x.indices + shift, x.indptr), shape=(x.shape[0], n_targets * width)
        )
        rows = np.flatnonzero(slot >= 0)
        bias = sp.csr_matrix(
            (np.ones(len(rows)), (rows, slot[rows])), shape=(x.shape[0], n_targets)
        )
        return sp.hstack([x, copy, bias], format="csr")

    # -- prediction -----------------------------------------------------------------------------
    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Class probabilities in ``classes_`` order, shape (n, len(classes_))."""
        if self.uses_target and targets is None:
            raise StanceError(
                problem(
                    "predict",
                    f"this model was trained with targets {self.targets_} and needs one per text",
                    "pass targets (a `target` column, or target=... on the command line)",
                )
            )
        x = self.transform(texts, targets)
        proba = self._columns(
            self.classifier_, self.classifier_.predict_proba(self._features(x, targets))
        )
        if self.per_target_ and targets is not None:
            tarr = np.asarray(list(targets), dtype=object)
            for target, clf in self.per_target_.items():
                rows = np.flatnonzero(tarr == target)
                if len(rows):
                    proba[rows] = self._columns(clf, clf.predict_proba(x[rows]))
        return proba

    def _columns(self, clf: Any, proba: np.ndarray) -> np.ndarray:
        """Spread a classifier's columns (its ``classes_`` ints) over all of ``classes_``."""
        full = np.zeros((proba.shape[0], len(self.classes_)))
        full[:, clf.classes_] = proba
        return full

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write ``model.skops`` (no pickle) and ``stance_model.json`` into the folder ``path``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "vectorizer": self.vectorizer_,
            "classifier": self.classifier_,
            "per_target": self.per_target_,
        }
        sio.dump(state, folder / SKOPS_FILE)
        write_meta(
            folder,
            self.family,
            self.classes_,
            params=self.get_params(),
            targets=self.targets_,
            trusted_types=TRUSTED_TYPES,
        )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a folder written by ``save``, refusing any type outside ``TRUSTED_TYPES``."""
        folder = Path(path)
        file = folder / SKOPS_FILE
        if not file.is_file():
            raise StanceError(
                problem(str(folder), f"no {SKOPS_FILE} in this model folder", "retrain the model")
            )
        try:
            untrusted = sorted(set(sio.get_untrusted_types(file=file)) - set(TRUSTED_TYPES))
        except (zipfile.BadZipFile, KeyError, ValueError) as err:
            raise StanceError(
                problem(str(file), f"not a readable skops file ({err})", "retrain the model")
            ) from err
        if untrusted:
            raise StanceError(
                problem(
                    str(file),
                    f"refusing to load: it holds types outside the trusted list: {untrusted}",
                    "only load models this project wrote; retrain if the file is not yours",
                )
            )
        state = sio.load(file, trusted=TRUSTED_TYPES)
        meta = read_meta(folder)
        model = cls(**meta["params"])
        model.classes_ = list(meta["classes"])
        model.targets_ = list(meta.get("targets", []))
        model.vectorizer_ = state["vectorizer"]
        model.classifier_ = state["classifier"]
        model.per_target_ = dict(state["per_target"])
        return model


def _plain(value: Any) -> Any:
    """Tuples to lists so that parameters round-trip through JSON."""
    return list(value) if isinstance(value, tuple) else value
