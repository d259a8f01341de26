"""A model folder is data, not code: crafted, corrupt or inconsistent folders stop with a message.

Issue 22 item 2. Every folder is built by the test: a tiny model is trained and saved, then one
file is edited the way a crafted download or a hand edit would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from fixtures import tiny_dataset
from models.conftest import tiny_bert  # noqa: F401  (the 32-wide random BERT fixture)
from stance.data import overlap
from stance.errors import StanceError
from stance.experiment.training import train
from stance.models import encoders
from stance.models.ensemble import EnsembleStanceModel
from stance.models.hybrid import HybridStanceModel
from stance.models.setfit_folder import load_body, load_head, save_head
from stance.models.sklearn_models import SKOPS_FILE, TRUSTED_TYPES, TfidfStanceModel
from stance.models.trusted import PARAMS
from stance.predict import load_model
from train_helpers import compose_cfg, run_script_in_process, write_csv

TEXTS = ["we support and applaud it", "we oppose and condemn it"]


def saved(folder: Path, labels: tuple[str, ...] = ("pro", "anti"), **params: object) -> Path:
    """A tiny TF-IDF model folder with its training record, as a run writes it."""
    train_split = tiny_dataset(labels)["train"]
    settings = {"char_ngrams": None, "target_mode": "none", **params}
    TfidfStanceModel(**settings).fit(train_split).save(folder)
    record = {"dataset": "tiny", "fingerprint": "f", "split": {}, "neutral_label": None}
    overlap.write_record(folder, {**record, "rows": {"train": ["00"] * len(train_split)}})
    return folder


def edit_state(folder: Path, change: Callable[[dict], object]) -> None:
    """Load ``model.skops``, apply ``change`` to its state, write it back."""
    file = folder / SKOPS_FILE
    state = sio.load(file, trusted=TRUSTED_TYPES)
    change(state)
    sio.dump(state, file)


def edit_meta(folder: Path, change: Callable[[dict], object]) -> None:
    """Apply ``change`` to ``stance_model.json``."""
    meta = json.loads((folder / "stance_model.json").read_text())
    change(meta)
    (folder / "stance_model.json").write_text(json.dumps(meta))


def word_vectorizer(state: dict) -> TfidfVectorizer:
    return state["vectorizer"].transformer_list[0][1]


def _set(attr: str, value: object) -> Callable[[dict], None]:
    return lambda state: setattr(word_vectorizer(state), attr, value)


CRAFTED = {
    "input=filename": (_set("input", "filename"), r"input='filename'"),
    "input=file": (_set("input", "file"), r"input='file'"),
    "a preprocessor": (_set("preprocessor", np.positive), r"preprocessor="),
    "an analyzer function": (_set("analyzer", np.positive), r"analyzer="),
    "a tokenizer": (_set("tokenizer", np.positive), r"tokenizer="),
    "a backtracking pattern": (_set("token_pattern", r"(a+)+$"), r"token_pattern="),
    "an integer dtype": (_set("dtype", np.int64), r"dtype="),
    "an attribute of its own": (_set("build_analyzer", np.positive), "build_analyzer"),
    "a function transformer": (
        lambda s: s["vectorizer"].transformer_list.append(("f", FunctionTransformer(np.positive))),
        "FunctionTransformer",
    ),
    "a pipeline with a cache folder": (
        lambda s: s.update(vectorizer=Pipeline([("u", s["vectorizer"])], memory="joblib-cache")),
        "Pipeline",
    ),
    "a union with a lambda weight": (
        lambda s: setattr(s["vectorizer"], "transformer_weights", {"word": np.positive}),
        "transformer_weights",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_estimator_setting_is_refused_before_any_text_is_read(
    tmp_path: Path, case: str
) -> None:
    folder = saved(tmp_path / "m")
    change, message = CRAFTED[case]
    edit_state(folder, change)
    with pytest.raises(StanceError) as err:
        load_model(folder)
    assert "model.skops" in str(err.value) and "fix:" in str(err.value)
    assert message in str(err.value)


def test_every_parameter_of_every_allowed_class_has_a_rule() -> None:
    import inspect

    for cls, rules in PARAMS.items():
        missing = set(inspect.signature(cls).parameters) - set(rules)
        assert not missing, f"{cls.__name__}: no rule for {sorted(missing)}"


def test_the_svm_and_per_target_models_pass_the_check(tmp_path: Path) -> None:
    folder = saved(tmp_path / "m", classifier="svm", target_mode="per_target")
    edit_meta(folder, lambda m: None)
    predictor = load_model(folder)
    assert predictor.predict_proba(TEXTS, ["aid", "tariffs"]).shape == (2, 2)


def test_reordered_classes_are_refused_not_scored(tmp_path: Path, capsys) -> None:
    # the reproduction: evaluate.py exited 0 with F_avg 0.374 instead of 0.521
    overrides = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    common = [
        *overrides,
        f"paths.processed_root={tmp_path / 'processed'}",
        "evaluation.bootstrap=0",
    ]
    run = tmp_path / "run"
    train(compose_cfg("train", [*common, "model.char_ngrams=null", f"run_dir={run}"]))
    edit_meta(run / "model", lambda meta: meta["classes"].reverse())
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process(
            "evaluate", [*common, f"model_path={run}", f"run_dir={tmp_path / 'eval'}"]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "stance_model.json" in err and "['pro', 'anti']" in err and "Traceback" not in err


def test_fewer_classes_than_the_estimator_holds_are_refused(tmp_path: Path) -> None:
    folder = saved(tmp_path / "m", labels=("pro", "anti", "neutral"))
    edit_meta(folder, lambda meta: meta["classes"].pop())
    with pytest.raises(StanceError, match=r"stance_model.json: .*classes"):
        load_model(folder)


def test_an_unknown_parameter_is_named(tmp_path: Path) -> None:
    folder = saved(tmp_path / "m")
    edit_meta(folder, lambda meta: meta["params"].update(colour="blue"))
    with pytest.raises(StanceError, match=r"stance_model.json: .*params.*'colour'"):
        load_model(folder)
    edit_meta(folder, lambda meta: meta.pop("params"))
    with pytest.raises(StanceError, match=r"stance_model.json: params must be an object"):
        load_model(folder)


def test_a_truncated_training_record_is_named(tmp_path: Path) -> None:
    folder = saved(tmp_path / "m")
    record = folder / "training_data.json"
    record.write_text(record.read_text()[:40])
    with pytest.raises(StanceError, match=r"training_data.json: .*JSON"):
        load_model(folder)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"family": "transformer", "classes": ["pro", "anti"]}, "model.safetensors"),
        ({"family": "transformer"}, "classes"),
        ({"family": "tfidf", "classes": "pro,anti"}, "classes"),
        ({"family": "tfidf", "classes": ["pro", "pro"]}, "classes"),
        ([], "JSON object"),
        ({"family": 3, "classes": ["pro", "anti"]}, "family"),
        ({"family": "ensemble", "classes": ["pro", "anti"]}, "members"),
        ({"family": "setfit", "classes": ["pro", "anti"], "params": {}}, "head.skops"),
    ],
)
def test_a_folder_with_a_broken_stance_model_json_is_named(
    tmp_path: Path, meta: object, message: str
) -> None:
    (tmp_path / "stance_model.json").write_text(json.dumps(meta))
    with pytest.raises(StanceError) as err:
        load_model(tmp_path)
    assert "stance_model.json" in str(err.value) or str(tmp_path) in str(err.value)
    assert message in str(err.value)


def test_a_transformer_folder_whose_config_lists_other_labels_is_refused(tmp_path: Path) -> None:
    meta = {
        "family": "transformer", "classes": ["pro", "anti"], "pretrained": "x", "max_length": 64,
        "stride": 16, "predict_batch_size": 8, "uses_target": False,
    }  # fmt: skip
    (tmp_path / "stance_model.json").write_text(json.dumps(meta))
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"id2label": {"0": "anti", "1": "pro"}}))
    with pytest.raises(StanceError, match=r"stance_model.json: .*\['anti', 'pro'\]"):
        load_model(tmp_path)


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.9])
def test_any_truncated_file_is_a_message_or_a_working_model(tmp_path: Path, keep: float) -> None:
    template = saved(tmp_path / "template")
    for name in sorted(p.name for p in template.iterdir()):
        folder = saved(tmp_path / name)
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: int(len(data) * keep)])
        try:
            predictor = load_model(folder)
        except StanceError as err:
            assert name in str(err) or str(folder) in str(err)
            continue
        assert predictor.predict(TEXTS).tolist() == ["pro", "anti"]  # only the card was cut


def test_a_file_linked_from_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder, elsewhere = saved(tmp_path / "m"), saved(tmp_path / "elsewhere")
    (folder / SKOPS_FILE).unlink()
    (folder / SKOPS_FILE).symlink_to(elsewhere / SKOPS_FILE)
    with pytest.raises(StanceError, match=r"model.skops: .*link"):
        load_model(folder)


def test_an_ensemble_member_is_checked_like_any_folder(tmp_path: Path) -> None:
    saved(tmp_path / "a" / "model"), saved(tmp_path / "b" / "model")
    members = [str(tmp_path / "a"), str(tmp_path / "b")]
    ensemble = EnsembleStanceModel(members).fit(tiny_dataset()["train"])
    ensemble.save(tmp_path / "ens")
    assert load_model(tmp_path / "ens").predict(TEXTS).tolist() == ["pro", "anti"]
    edit_state(tmp_path / "ens" / "members" / "1", _set("input", "filename"))
    with pytest.raises(StanceError, match=r"members/1/model.skops: .*input='filename'"):
        load_model(tmp_path / "ens")


def fake_encode(
    self: HybridStanceModel, texts: list[str], targets: object, show: bool = False
) -> np.ndarray:
    """8-wide embeddings from a hash of each text: no encoder is read."""
    return np.array([np.random.default_rng(len(t)).normal(size=8) for t in texts], np.float32)


def test_a_hybrid_takes_no_path_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HybridStanceModel, "_encode", fake_encode)
    cache = tmp_path / "cache"
    model = HybridStanceModel(char_ngrams=None, target_mode="none", cache_dir=str(cache))
    model.fit(tiny_dataset()["train"]).save(tmp_path / "m")
    assert (
        "cache_dir" not in json.loads((tmp_path / "m" / "stance_model.json").read_text())["params"]
    )
    elsewhere = tmp_path / "elsewhere"
    edit_meta(tmp_path / "m", lambda meta: meta["params"].update(cache_dir=str(elsewhere)))
    load_model(tmp_path / "m").predict_proba(TEXTS)
    assert not elsewhere.exists()  # the reproduction: .npy files were written there
    edit_meta(tmp_path / "m", lambda meta: meta["params"].update(encoder=str(tmp_path)))
    with pytest.raises(StanceError, match=r"stance_model.json: .*encoder"):
        load_model(tmp_path / "m")


def test_a_hybrid_keeps_a_copy_of_a_local_encoder(
    tiny_bert: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    model = HybridStanceModel(encoder=str(tiny_bert), char_ngrams=None, target_mode="none")
    model.fit(tiny_dataset(n=30)["train"]).save(tmp_path / "m")
    assert (tmp_path / "m" / "encoder" / "model.safetensors").is_file()
    again = load_model(tmp_path / "m")
    assert again.model.encoder == str(tmp_path / "m" / "encoder")
    np.testing.assert_allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)
    assert encoders.MINILM not in again.model.encoder


def test_a_setfit_body_module_outside_its_folder_is_refused(tmp_path: Path) -> None:
    body = tmp_path / "body"
    body.mkdir()
    modules = [{"idx": 0, "name": "0", "path": "../../elsewhere",
                "type": "sentence_transformers.models.Transformer"}]  # fmt: skip
    (body / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(StanceError, match=r"modules.json: .*'../../elsewhere'"):
        load_body(str(body), str(body))


def test_a_setfit_head_saved_for_other_labels_is_refused(tmp_path: Path) -> None:
    head = LogisticRegression().fit([[0.0], [1.0], [0.1], [0.9]], [0, 1, 0, 1])
    save_head(head, tmp_path / "head.skops", ["pro", "anti"])
    assert load_head(tmp_path / "head.skops", ["pro", "anti"]).classes_.tolist() == [0, 1]
    with pytest.raises(StanceError, match=r"stance_model.json: .*head.skops .*\['pro', 'anti'\]"):
        load_head(tmp_path / "head.skops", ["anti", "pro"])
    sio.dump(FeatureUnion([("t", TfidfVectorizer(input="filename"))]), tmp_path / "head.skops")
    with pytest.raises(StanceError, match=r"head\.skops"):
        load_head(tmp_path / "head.skops", ["pro", "anti"])
