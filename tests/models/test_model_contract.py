"""One contract for every model family (scikit-learn's estimator rules): explicit keyword
hyperparameters stored as given, ``get_params`` and ``clone`` from the base class, validation in
``fit``, declared capabilities, and the family name stated once."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from fixtures import tiny_split
from stance import models
from stance.errors import StanceError
from stance.models.base import StanceModel
from stance.models.sklearn_models import TfidfStanceModel

FAMILIES = ["tfidf", "hybrid", "setfit", "transformer", "ensemble"]
# One setting per family that cannot work, refused by fit (not by the constructor).
BAD = {
    "tfidf": {"target_mode": "sometimes"},
    "hybrid": {"embedding_weight": -1.0},
    "setfit": {"class_weight": "inverse"},
    "transformer": {"warmup_ratio": 1.5},
    "ensemble": {"weights": [-1.0]},
}


def plain(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def target(family: str) -> str:
    cls = models.model_class(family)
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.mark.parametrize("family", FAMILIES)
def test_registry_names_each_family_once(family: str) -> None:
    cls = models.model_class(family)
    assert issubclass(cls, StanceModel) and cls.family == family
    assert sorted(models.families()) == sorted(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_constructor_takes_explicit_keywords_and_stores_them(family: str) -> None:
    cls = models.model_class(family)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)  # no **catch-all
    defaults = {p.name: p.default for p in parameters}
    assert cls().get_params() == defaults  # stored as given, under its own name


@pytest.mark.parametrize("family", FAMILIES)
def test_get_params_round_trips_through_build_and_clone(family: str) -> None:
    model = models.build({"_target_": target(family), "seed": 7} if family != "ensemble" else
                         {"_target_": target(family), "members": ["runs/a"]})  # fmt: skip
    params = model.get_params()
    rebuilt = models.build({"_target_": target(family), **params})
    assert type(rebuilt) is type(model)
    assert plain(rebuilt.get_params()) == plain(params)  # a config holds lists, not tuples
    copy = model.clone()
    assert type(copy) is type(model) and copy is not model and copy.get_params() == params


@pytest.mark.parametrize("family", FAMILIES)
def test_bad_hyperparameters_are_refused_by_fit_not_the_constructor(family: str) -> None:
    model = models.model_class(family)(**BAD[family])  # stored, not checked
    (key,) = BAD[family]
    with pytest.raises(StanceError, match=f"model.{key}"):
        model.fit(tiny_split(12, 0))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_misspelt_hyperparameter_is_named(family: str) -> None:
    with pytest.raises(StanceError, match=r"unknown hyperparameters \['lerning_rate'\]"):
        models.build({"_target_": target(family), "lerning_rate": 1e-4})


def test_capabilities_are_declared() -> None:
    declared = {
        f: (c.supports_onnx, c.data_parallel, c.calibrated)
        for f in FAMILIES
        for c in [models.model_class(f)]
    }
    assert declared == {
        "tfidf": (False, False, True),
        "hybrid": (False, False, True),
        "setfit": (True, False, True),
        "transformer": (True, True, True),
        "ensemble": (False, False, False),
    }


def test_clone_is_unfitted() -> None:
    fitted = TfidfStanceModel(char_ngrams=None, target_mode="none", progress_bar=False)
    fitted.fit(tiny_split(40, 0))
    copy = fitted.clone()
    assert not hasattr(copy, "classifier_") and copy.get_params() == fitted.get_params()
    texts = ["we support it", "we oppose it"]
    assert list(copy.fit(tiny_split(40, 0)).predict(texts)) == list(fitted.predict(texts))


def test_loading_a_tfidf_model_imports_no_other_family(tmp_path) -> None:
    """The registry imports only the module it needs (skops itself may pull torch in: not ours)."""
    model = TfidfStanceModel(char_ngrams=None, target_mode="none", progress_bar=False)
    model.fit(tiny_split(40, 0)).save(tmp_path / "m")
    code = (
        "import sys; from stance import models; m = models.load(sys.argv[1]); "
        "assert m.family == 'tfidf'; "
        "sys.exit(bool({'transformers', 'stance.models.hybrid'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")]).returncode == 0


def test_transformer_takes_every_training_setting_with_its_default() -> None:
    """The defaults are stated once, in TrainSettings: the constructor names each field and
    takes its default from there (a field added there and not here fails)."""
    import dataclasses

    from stance.models.transformer.settings import TrainSettings

    defaults = models.model_class("transformer")().get_params()
    for field in dataclasses.fields(TrainSettings):
        assert field.name in defaults and defaults[field.name] == field.default, field.name


def test_hybrid_shares_the_tfidf_defaults_but_c() -> None:
    tfidf, hybrid = TfidfStanceModel().get_params(), models.model_class("hybrid")().get_params()
    assert {k: v for k, v in tfidf.items() if hybrid[k] != v} == {"C": 1.0}


def test_hybrid_lists_every_tfidf_hyperparameter_in_order_written_once() -> None:
    """`extends`: the hybrid's own keywords, then TfidfStanceModel's in their order, although its
    constructor names only C of them (written once, in the parent)."""
    from stance.models.hybrid import HybridStanceModel

    own = ["encoder", "embedding_weight", "embed_max_length", "embed_batch_size", "cache_dir"]
    assert HybridStanceModel.param_names() == own + TfidfStanceModel.param_names()
    source = inspect.getsource(HybridStanceModel.__init__)
    assert "word_ngrams" not in source and "min_target_examples" not in source
    model = HybridStanceModel(word_ngrams=(1, 3), C=2.0)
    assert model.word_ngrams == (1, 3) and model.C == 2.0 and model.clone().word_ngrams == (1, 3)
    with pytest.raises(TypeError, match="word_ngram"):
        HybridStanceModel(word_ngram=(1, 3))


def test_extends_needs_a_catch_all_to_extend() -> None:
    from stance.models.base import extends

    with pytest.raises(TypeError, match="inherited"):

        @extends(TfidfStanceModel)
        def __init__(self, extra: int = 1) -> None: ...


def test_a_new_family_is_its_module_only(tmp_path) -> None:
    """The registry reads each module's source: a class stating `family` is registered, nothing
    is imported, and two classes stating one family are refused."""
    package = tmp_path / "fakepkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "news.py").write_text(
        "raise ImportError('never imported')\nclass NewModel:\n    family = 'new'\n"
        "class Helper:\n    family: str = ''\n"
    )
    assert models.scan(package, "fakepkg") == {"new": "fakepkg.sub.news:NewModel"}
    (package / "other.py").write_text("class Again:\n    family = 'new'\n")
    with pytest.raises(TypeError, match="'new' is stated by"):
        models.scan(package, "fakepkg")


def test_an_unknown_family_in_a_folder_is_refused_without_importing_it() -> None:
    for family in ("stance.models.hybrid:HybridStanceModel", "os", None, ["tfidf"]):
        with pytest.raises(StanceError, match="is not one of"):
            models.model_class(family)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_declares_its_folder_checks_on_its_class(family: str) -> None:
    """`folder_check` runs the class's own `check_folder`: no table of families elsewhere."""
    from stance.models import folder_check

    assert models.model_class(family).check_folder is not StanceModel.check_folder
    assert f'"{family}"' not in inspect.getsource(folder_check)


def test_a_folder_missing_its_family_file_is_refused_by_the_class_check(tmp_path) -> None:
    model = TfidfStanceModel(char_ngrams=None, target_mode="none", progress_bar=False)
    model.fit(tiny_split(40, 0)).save(tmp_path / "m")
    (tmp_path / "m" / "model.skops").unlink()
    with pytest.raises(StanceError, match=r"no model\.skops in this tfidf model folder"):
        models.load(tmp_path / "m")
