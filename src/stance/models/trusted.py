"""What a scikit-learn model file may hold: the classes this project writes, every setting data.

skops refuses classes outside a trusted list, but a trusted class can still be told by its
settings to do something else: ``TfidfVectorizer(input="filename")`` opens every text as a path,
a ``preprocessor`` or ``analyzer`` runs a function on each text, a pipeline's ``memory`` writes
into a folder. So every object read from a ``.skops`` file is walked before use: its class must
be in ``PARAMS``, each constructor parameter must pass its rule there, and every other attribute
must be a fitted attribute holding plain data (numbers, strings, numeric arrays, more of the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV, _CalibratedClassifier, _SigmoidCalibration
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from stance.errors import StanceError, problem

Rule = Callable[[Any], bool]
REFUSE = "refusing to load it: retrain the model, and load only model folders you trust"


def one_of(*allowed: Any) -> Rule:
    """Equal to one of ``allowed`` and of its type (``True`` is not ``1``, a dtype is itself)."""
    return lambda v: any(type(v) is type(a) and v == a for a in allowed)


def flag(v: Any) -> bool:
    return type(v) in (bool, np.bool_)


def integer(low: int | None = None, high: int | None = None) -> Rule:
    """An integer (not a bool) within [low, high]."""
    whole = (int, np.integer)
    return lambda v: (
        isinstance(v, whole) and not flag(v)
        and (low is None or v >= low) and (high is None or v <= high)
    )  # fmt: skip


def number(low: float = -math.inf, high: float = math.inf) -> Rule:
    """A finite real number (not a bool) within [low, high]."""
    real = (int, float, np.integer, np.floating)
    return lambda v: isinstance(v, real) and not flag(v) and math.isfinite(v) and low <= v <= high


def optional(rule: Rule) -> Rule:
    return lambda v: v is None or rule(v)


def either(*rules: Rule) -> Rule:
    return lambda v: any(rule(v) for rule in rules)


def mapping(key: Rule, value: Rule) -> Rule:
    return lambda v: type(v) is dict and all(key(k) and value(x) for k, x in v.items())


def text(v: Any) -> bool:
    return type(v) is str and len(v) <= 200


def ngram_range(v: Any) -> bool:
    return type(v) in (tuple, list) and len(v) == 2 and all(map(integer(1, 50), v)) and v[0] <= v[1]


def a_classifier(v: Any) -> bool:
    return type(v) in (LinearSVC, LogisticRegression)


def words(v: Any) -> bool:
    return type(v) is list and all(map(text, v))


def named_parts(v: Any) -> bool:
    """A union's ``[(name, transformer), ...]``; the walk then checks each transformer."""
    return type(v) is list and all(
        type(p) in (tuple, list) and len(p) == 2 and text(p[0]) for p in v
    )


positive, seed = number(low=1e-12), optional(integer(0, 2**32 - 1))
class_weight = either(one_of(None, "balanced"), mapping(integer(0), number(0)))
n_jobs, verbose = optional(integer(-64, 64)), integer(0, 10)
TFIDF = {"norm": one_of("l2", "l1", None), "use_idf": flag, "smooth_idf": flag,
         "sublinear_tf": flag}  # fmt: skip

# class -> {constructor parameter -> rule}: the values this project writes, and safe neighbours.
# No callables, no paths, no regular expressions of its own (a crafted one can backtrack for ever).
PARAMS: dict[type, dict[str, Rule]] = {
    TfidfVectorizer: {
        "input": one_of("content"),  # "filename"/"file" would open each text as a path
        "encoding": text, "decode_error": one_of("strict", "ignore", "replace"),
        "strip_accents": one_of(None, "ascii", "unicode"), "lowercase": flag,
        "preprocessor": one_of(None), "tokenizer": one_of(None),
        "analyzer": one_of("word", "char", "char_wb"),
        "stop_words": either(one_of(None, "english"), words),
        "token_pattern": one_of(r"(?u)\b\w\w+\b"), "ngram_range": ngram_range,
        "max_df": either(number(0, 1), integer(1)), "min_df": either(number(0, 1), integer(1)),
        "max_features": optional(integer(1)), "vocabulary": optional(mapping(text, integer(0))),
        "binary": flag, "dtype": one_of(np.float64, np.float32), **TFIDF,
    },
    TfidfTransformer: TFIDF,
    FeatureUnion: {
        "transformer_list": named_parts, "n_jobs": n_jobs,
        "transformer_weights": optional(mapping(text, number(0))), "verbose": flag,
        "verbose_feature_names_out": flag,
    },
    LogisticRegression: {
        "penalty": one_of("deprecated", "l2", "l1", "elasticnet", None), "C": positive,
        "l1_ratio": optional(number(0, 1)), "dual": flag, "tol": positive,
        "fit_intercept": flag, "intercept_scaling": number(), "class_weight": class_weight,
        "random_state": seed,
        "solver": one_of("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"),
        "max_iter": integer(1), "verbose": verbose, "warm_start": flag, "n_jobs": n_jobs,
        "multi_class": one_of("deprecated", "auto", "ovr", "multinomial"),  # scikit-learn < 1.8
    },
    LinearSVC: {
        "penalty": one_of("l2", "l1"), "loss": one_of("squared_hinge", "hinge"),
        "dual": one_of("auto", True, False), "tol": positive, "C": positive,
        "multi_class": one_of("ovr", "crammer_singer"), "fit_intercept": flag,
        "intercept_scaling": number(), "class_weight": class_weight, "verbose": verbose,
        "random_state": seed, "max_iter": integer(1),
    },
    CalibratedClassifierCV: {
        "estimator": a_classifier, "method": one_of("sigmoid"), "cv": optional(integer(2, 100)),
        "n_jobs": n_jobs, "ensemble": one_of("auto", True, False),
    },
    _CalibratedClassifier: {
        "estimator": a_classifier, "method": one_of("sigmoid"),
        "calibrators": lambda v: type(v) is list and all(type(c) is _SigmoidCalibration for c in v),
        "classes": lambda v: isinstance(v, np.ndarray) and v.dtype.kind in "iu",
    },
    _SigmoidCalibration: {},
}  # fmt: skip
# class -> its fitted (and private) attributes, which must hold plain data; anything else: refused
LINEAR = {"n_features_in_", "feature_names_in_", "classes_", "coef_", "intercept_", "n_iter_"}
FITTED: dict[type, set[str]] = {
    TfidfVectorizer: {"_tfidf", "vocabulary_", "fixed_vocabulary_", "stop_words_",
                      "_stop_words_id"},
    TfidfTransformer: {"n_features_in_", "idf_", "_idf_diag"},
    FeatureUnion: {"n_features_in_", "feature_names_in_"},
    LogisticRegression: LINEAR,
    LinearSVC: LINEAR,
    CalibratedClassifierCV: {"calibrated_classifiers_", "classes_", "n_features_in_"},
    _CalibratedClassifier: set(),
    _SigmoidCalibration: {"a_", "b_"},
}  # fmt: skip
SCALARS = (bool, int, float, str, np.bool_, np.integer, np.floating)


def refuse(file: Path, what: str, fix: str = REFUSE) -> None:
    raise StanceError(problem(str(file), what, fix))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check(obj: Any, file: Path, where: str = "the file", depth: int = 0) -> None:
    """Refuse ``obj`` (read from ``file``) unless it is plain data and allowed estimators."""
    if depth > 40:
        refuse(file, f"{where} is nested more than 40 levels deep")
    if obj is None or isinstance(obj, SCALARS):
        return
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufU":  # no object arrays: they hold anything
            refuse(file, f"{where} is an array of {obj.dtype}, not numbers or strings")
        return
    if type(obj) in (list, tuple, set, frozenset):
        for i, item in enumerate(obj):
            check(item, file, f"{where}[{i}]", depth + 1)
    elif type(obj) is dict:
        for key, value in obj.items():
            check(key, file, f"{where} (a key)", depth + 1)
            check(value, file, f"{where}[{key!r}]", depth + 1)
    elif type(obj) in PARAMS:
        _estimator(obj, file, where, depth)
    else:
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        refuse(file, f"{where} is a {name}, outside the classes this project writes")


def _estimator(obj: Any, file: Path, where: str, depth: int) -> None:
    rules, fitted, name = PARAMS[type(obj)], FITTED[type(obj)], type(obj).__name__
    for key, value in vars(obj).items():
        if key in rules:
            if not rules[key](value):
                what = f"{where} ({name}) has {key}={_short(value)}"
                refuse(file, what + ", a setting this project never writes")
            if type(value) is not type:  # a dtype, checked by its rule
                check(value, file, f"{where}.{key}", depth + 1)
        elif key in fitted:
            check(value, file, f"{where}.{key}", depth + 1)
        else:
            refuse(file, f"{where} ({name}) has an attribute {key!r} of its own")


def load_skops(file: Path, trusted: Sequence[str] = (), checked: bool = True) -> Any:
    """The object in a ``.skops`` file, after skops' type check and (``checked``) ``check``."""
    if not file.is_file():
        refuse(file.parent, f"no {file.name} in this model folder", "retrain the model")
    try:
        untrusted = sorted(set(sio.get_untrusted_types(file=file)) - set(trusted))
        if not untrusted:
            obj = sio.load(file, trusted=list(trusted))
    except Exception as err:  # a corrupt file may fail anywhere inside skops or zipfile
        refuse(
            file, f"not a readable skops file ({type(err).__name__}: {err})", "retrain the model"
        )
    if untrusted:
        refuse(file, f"refusing to load: it holds types outside the trusted list: {untrusted}")
    if checked:
        check(obj, file)
    return obj


def check_label_ids(clf: Any, classes: Sequence[str], file: Path, where: str) -> None:
    """The label numbers a fitted classifier predicts must index ``classes`` (stance_model.json)."""
    ids = getattr(clf, "classes_", None)
    ok = isinstance(ids, np.ndarray) and ids.ndim == 1 and ids.dtype.kind in "iu" and len(ids)
    if not ok or list(ids) != sorted(set(ids.tolist())) or ids[0] < 0 or ids[-1] >= len(classes):
        meta = file.parent / "stance_model.json"
        what = (
            f"classes lists {len(classes)} labels {list(classes)}, but {where} in {file.name} "
            f"predicts label numbers {_short(ids)}"
        )
        refuse(meta, what, "restore the classes the model was trained with, or retrain it")


def check_label_names(stored: Any, classes: Sequence[str], file: Path) -> None:
    """The label names saved next to the estimator must be stance_model.json's, in its order."""
    if stored is not None and list(stored) != list(classes):
        meta = file.parent / "stance_model.json"
        what = (
            f"classes {list(classes)} are not the labels {file.name} was trained with, in their "
            f"order: {list(stored)} (read in this order, every prediction would be mislabelled)"
        )
        refuse(meta, what, f"set classes to {list(stored)} in {meta.name}, or retrain the model")


def tfidf_state(state: Any, classes: Sequence[str], file: Path) -> dict[str, Any]:
    """A TF-IDF model file's state, its shape and labels checked against ``classes``."""
    keys = {"vectorizer", "classifier", "per_target"}
    if type(state) is not dict or not keys <= set(state) or set(state) - keys - {"classes"}:
        refuse(file, "it does not hold a TF-IDF model's vectorizer and classifiers", "retrain")
    per_target = state["per_target"]
    if type(state["vectorizer"]) is not FeatureUnion or type(per_target) is not dict:
        refuse(
            file, "its vectorizer is not a feature union, or per_target not a mapping", "retrain"
        )
    for where, clf in [("classifier", state["classifier"]), *per_target.items()]:
        if type(clf) not in (LogisticRegression, CalibratedClassifierCV):
            refuse(file, f"{where} is a {type(clf).__name__}, not a classifier this project writes")
        check_label_ids(clf, classes, file, f"the classifier of {where}")
    check_label_names(state.get("classes"), classes, file)
    return state
