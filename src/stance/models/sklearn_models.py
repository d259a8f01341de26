"""TF-IDF baselines (logistic regression, calibrated linear SVM) behind the StanceModel contract."""

from __future__ import annotations

import sys
from collections import Counter
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
from stance.models.base import MODEL_META_FILE, StanceModel, read_meta
from stance.models.calibration import fit_on_validation, temper
from stance.models.folder_check import construct, needs
from stance.models.targets import blocked_targets, conjunction, rows_by_target, sharing
from stance.models.trusted import load_skops, tfidf_state

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
    ``none`` ignores it; ``features`` trains one global model on the shared n-grams plus a copy
    of them per target scaled by ``target_feature_weight`` (< 1: the shared weights carry small
    targets and the copy corrects them; 0: text only; ``target_bias``: a per-target intercept
    too); ``per_target`` also trains a classifier of its own for each target with at least
    ``min_target_examples`` training rows (and every class). The other targets share the global
    model; an unseen one gets its shared weights alone (predictions flag it: ``seen_targets_``).
    ``calibrate``: a softmax temperature fitted on validation; ``progress_bar``: phase lines.
    """

    family = "tfidf"
    calibrated = True
    check_folder = staticmethod(needs(SKOPS_FILE))  # and params in stance_model.json
    #: Settings of this machine, not of the model: never written to, nor read from, its folder.
    local_params: tuple[str, ...] = ("progress_bar",)

    def __init__(
        self,
        classifier: str = "logreg",  # logreg | svm (linear SVM, Platt-calibrated probabilities)
        C: float = 1.0,  # inverse L2 regularisation strength of the classifier(s)
        word_ngrams: Sequence[int] = (1, 2),  # smallest and largest word n-gram
        char_ngrams: Sequence[int] | None = (2, 5),  # character n-grams within words; null: none
        min_df: int = 1,  # n-grams in fewer training paragraphs are dropped
        max_features: int | None = None,  # keep the most frequent n-grams only; null: all
        sublinear_tf: bool = True,  # 1 + log(tf) instead of raw counts
        class_weight: str | None = "balanced",  # balanced (inverse class frequency) | null
        target_mode: str = "per_target",  # none | features | per_target (class docstring)
        # scale of each target's copy of the n-grams in the global model; 0: text only
        target_feature_weight: float = 0.15,
        target_bias: bool = False,  # a per-target intercept in the global model as well
        min_target_examples: int = 100,  # rows a target needs for a classifier of its own
        calibration_folds: int = 3,  # svm: cross-validation folds of the Platt scaling
        max_iter: int = 2000,  # solver iterations at most
        seed: int = 0,  # the solvers' random state
        calibrate: bool = True,  # fit a softmax temperature on validation (ece before/after)
        progress_bar: bool = True,  # a line on stderr as each fit phase starts
    ) -> None:
        self.classifier = classifier
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.class_weight = class_weight
        self.target_mode = target_mode
        self.target_feature_weight = target_feature_weight
        self.target_bias = target_bias
        self.min_target_examples = min_target_examples
        self.calibration_folds = calibration_folds
        self.max_iter = max_iter
        self.seed = seed
        self.calibrate = calibrate
        self.progress_bar = progress_bar

    def check_params(self) -> None:
        """An unknown classifier or target mode, or a negative target feature weight, refused."""
        for key, allowed in (("classifier", CLASSIFIERS), ("target_mode", TARGET_MODES)):
            if (value := getattr(self, key)) not in allowed:
                raise StanceError(problem(f"model.{key}", f"unknown {value!r}", f"use {allowed}"))
        if not self.target_feature_weight >= 0:
            what = f"{self.target_feature_weight} is negative"
            raise StanceError(
                problem("model.target_feature_weight", what, "use 0 (text only) to 1")
            )

    @property
    def uses_target(self) -> bool:
        """True when some target got weights of its own (a classifier, or its block of the global
        model), so predictions read the target."""
        return bool(self.per_target_) or self._conjoined

    @property
    def requires_target(self) -> bool:
        """True when a text without a target cannot be labelled; the global model can label it
        with its shared weights alone, a classifier of a target's own cannot."""
        return bool(self.per_target_)

    @property
    def _conjoined(self) -> bool:
        """True when the global model reads target-conjunction features."""
        return bool(self.targets_) and self.target_feature_weight > 0

    def shared_target_use(self) -> str:
        """How the global model, which the targets without a classifier of their own share,
        reads the target (for ``stance_model.json`` and the model card)."""
        if not self._conjoined:
            return "text only: the shared n-gram weights, the same for every target"
        rest = len(set(self.target_rows_) - set(self.targets_))
        return (
            "shared n-gram weights plus a copy per target at weight "
            f"{self.target_feature_weight:g} (target-conjunction features)"
            + (f"; {rest} targets with fewer rows read the shared weights alone" if rest else "")
        )

    # -- training -------------------------------------------------------------------------------
    def build_features(self) -> FeatureUnion:
        """The unfitted word + character TF-IDF feature union these hyperparameters describe."""
        common = {
            "min_df": self.min_df,
            "max_features": self.max_features,
            "sublinear_tf": self.sublinear_tf,
        }
        words = tuple(self.word_ngrams)  # a config gives a list; scikit-learn wants a tuple
        parts = [("word", TfidfVectorizer(ngram_range=words, lowercase=True, **common))]
        if self.char_ngrams:
            chars = tuple(self.char_ngrams)
            char = TfidfVectorizer(analyzer="char_wb", ngram_range=chars, **common)
            parts.append(("char", char))
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
        """Fit features and classifier(s) on ``train``, a temperature on ``validation``."""
        self.check_params()
        self.classes_ = list(train.features["label"].names)
        texts, y = list(train["text"]), np.asarray(train["label"])
        use_target = self.target_mode != "none" and "target" in train.column_names
        targets = list(train["target"]) if use_target else None
        self.target_rows_ = dict(sorted(Counter(targets or []).items()))
        self.targets_ = blocked_targets(self.target_rows_)  # the global model's target blocks
        self.per_target_ = {}
        self.vectorizer_ = self.build_features()
        self.say(f"features of {len(texts)} training rows")
        x = self.transform(texts, targets if "target" in train.column_names else None, fit=True)
        self.say(f"{self.classifier} on {x.shape[1]} features (and per target where it may)")
        self.classifier_ = self.build_classifier(y).fit(self._features(x, targets), y)
        if self.target_mode == "per_target" and targets is not None:
            tarr = np.asarray(targets, dtype=object)
            for target in self.target_rows_:
                rows = np.flatnonzero(tarr == target)
                counts = np.bincount(y[rows], minlength=len(self.classes_))
                # Too few rows, or a class missing (or seen once): the global model is better.
                if len(rows) >= self.min_target_examples and counts.min() > 1:
                    self.per_target_[target] = self.build_classifier(y[rows]).fit(x[rows], y[rows])
        self.seen_targets_ = list(self.target_rows_) if self.uses_target else None
        self.temperature_ = fit_on_validation(self, validation, self.say) if self.calibrate else 1.0
        return self

    def say(self, phase: str) -> None:
        """``<family>: <phase>`` on stderr, unless ``progress_bar`` is off."""
        if self.progress_bar:
            print(f"{self.family}: {phase}", file=sys.stderr, flush=True)

    def transform(
        self, texts: Sequence[str], targets: Sequence[str] | None, fit: bool = False
    ) -> sp.csr_matrix:
        """The texts' feature rows (fitting the vectorizer first with ``fit``)."""
        vectorize = self.vectorizer_.fit_transform if fit else self.vectorizer_.transform
        return sp.csr_matrix(vectorize(list(texts)))

    def _features(self, x: sp.csr_matrix, targets: Sequence[str] | None) -> sp.csr_matrix:
        """The global model's input: shared features plus the weighted target-conjunction ones."""
        if not self._conjoined:
            return x
        return conjunction(x, targets, self.targets_, self.target_feature_weight, self.target_bias)

    # -- prediction -----------------------------------------------------------------------------
    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, calibrated: bool = True
    ) -> np.ndarray:
        """Class probabilities in ``classes_`` order, shape (n, len(classes_)), at the fitted
        temperature (``calibrated=False``: the classifiers' own)."""
        if self.requires_target and targets is None:
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
        return temper(proba, self.temperature_) if calibrated else proba

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
            "classes": self.classes_,  # the label names in column order, checked on load
        }
        sio.dump(state, folder / SKOPS_FILE)
        params = self.get_params()
        self.write_meta(
            folder,
            params={k: v for k, v in params.items() if k not in self.local_params},
            targets=self.targets_,  # the order of the global model's conjunction blocks
            target_sharing=sharing(self),  # who has a classifier of their own, who shares
            trusted_types=TRUSTED_TYPES,
        )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a folder written by ``save``: only ``TRUSTED_TYPES``, every setting allow-listed
        (``stance.models.trusted``), the labels cross-checked with ``stance_model.json``."""
        folder = Path(path)
        meta = read_meta(folder)
        file = folder / SKOPS_FILE
        state = tfidf_state(load_skops(file, TRUSTED_TYPES), meta["classes"], file)
        params = {k: v for k, v in meta["params"].items() if k not in cls.local_params}
        # folders from before target_feature_weight: `features` copied at 1 with a bias per
        # target, `per_target` kept its global model text-only
        old_features = params.get("target_mode") == "features"
        params.setdefault("target_feature_weight", float(old_features))
        params.setdefault("target_bias", old_features)
        model = construct(cls, params, folder / MODEL_META_FILE)
        model.read_meta(meta, folder / MODEL_META_FILE)
        model.targets_ = list(meta.get("targets") or [])
        model.target_rows_ = rows_by_target(meta.get("target_sharing"))
        model.vectorizer_ = state["vectorizer"]
        model.classifier_ = state["classifier"]
        model.per_target_ = dict(state["per_target"])
        return model
