"""ONNX export of the transformer family on tiny random networks: parity, refusals, the script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stance.errors import StanceError
from stance.export.command import export_model
from stance.export.onnx import export_onnx, exportable
from stance.models.onnx_runtime import EXPORT_META, INT8_FILE, MODEL_FILE, OnnxStanceModel
from stance.models.transformer.data import encode_windows
from stance.models.transformer.model import TransformerStanceModel, load_encoder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")  # torch.onnx's exporter

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["pro", "anti"]  # the order the toy splits declare in their ClassLabel
# Enough for the tiny BERT to learn the toy task in a few seconds; 32 tokens cut the long
# paragraphs into several windows.
TINY = {"max_length": 32, "stride": 8, "learning_rate": 0.01, "epochs": 2, "batch_size": 8}
TINY_QUIET = {"eval_steps": 8, "save_steps": 8, "progress_bar": False}


def untrained(folder: str | Path, uses_target: bool, scale: float = 10.0) -> TransformerStanceModel:
    """A network with a fresh head as a loaded model, its weights scaled so that a tiny random
    network's probabilities depend on the input (at the fixtures' init all are nearly equal)."""
    import torch

    model = TransformerStanceModel(pretrained=str(folder), max_length=32, stride=8)
    model.predict_batch_size = 5  # several batches of different widths
    model.classes_, model.uses_target_, model.temperature_ = CLASSES, uses_target, 0.5
    model.tokenizer_, encoder = load_encoder(str(folder), CLASSES, "test")
    with torch.no_grad():
        for weight in encoder.parameters():
            if weight.dim() == 2:
                weight.mul_(scale)
    model.model_ = encoder.eval()
    return model


@pytest.mark.parametrize(
    ("network", "uses_target"),
    [("tiny_bert", True), ("tiny_bert", False), ("tiny_roberta", True)],
)
def test_onnx_probabilities_equal_pytorch_over_windows_and_pairs(
    network: str, uses_target: bool, toy_split: Callable, tmp_path: Path, request
) -> None:
    model = untrained(request.getfixturevalue(network), uses_target)
    validation = toy_split(20, 1, long_every=3)
    texts, targets = list(validation["text"]), list(validation["target"])
    windows = encode_windows(
        model.tokenizer_, texts, targets if uses_target else None, model.max_length, model.stride
    )
    assert max(Counter(windows["overflow_to_sample_mapping"]).values()) >= 3  # long paragraphs

    export_onnx(model, tmp_path)
    onnx = OnnxStanceModel(tmp_path)
    # The folder's tokenizer.json alone cuts the same windows as transformers does.
    features, source = onnx.windows(texts, targets)
    assert features["input_ids"] == windows["input_ids"]
    assert source == windows["overflow_to_sample_mapping"]
    assert ("token_type_ids" in onnx.input_names) == (network == "tiny_bert")

    reference = model.predict_proba(texts, targets)
    assert np.ptp(reference[:, 0]) > 0.05  # probabilities far from uniform: the test can fail
    np.testing.assert_allclose(onnx.predict_proba(texts, targets), reference, atol=1e-4, rtol=0)
    assert list(onnx.predict(texts, targets)) == list(model.predict(texts, targets))
    if uses_target:
        with pytest.raises(StanceError, match="targets"):
            onnx.predict(texts)


def test_only_transformer_and_setfit_models_export(toy_split: Callable, tmp_path: Path) -> None:
    from stance.models.sklearn_models import TfidfStanceModel

    model = TfidfStanceModel().fit(toy_split(24, 0))
    with pytest.raises(StanceError, match="only transformer and SetFit models export"):
        exportable(model, "runs/x")
    model.save(tmp_path / "model")
    with pytest.raises(StanceError, match="a tfidf model: only transformer and SetFit"):
        export_model(tmp_path / "model")
    assert not (tmp_path / "model" / "onnx").exists()


@pytest.fixture(scope="module")
def toy_run(
    tiny_bert: Path, toy_split: Callable, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(run dir, processed root): the real train config on a toy JSONL dataset, tiny BERT."""
    from stance.experiment.training import train
    from train_helpers import compose_cfg

    root = tmp_path_factory.mktemp("toy-run")
    rows = []
    for split, data in [
        ("train", toy_split(48, 0, long_every=5)),
        ("validation", toy_split(16, 1, long_every=4)),
        ("test", toy_split(12, 2)),
    ]:
        rows += [{**row, "label": CLASSES[row["label"]], "split": split} for row in data]
    (root / "toy.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    dataset = [
        "dataset=csv_template",
        "dataset.name=toy",
        "dataset.format=jsonl",
        f"dataset.path={root / 'toy.jsonl'}",
        "dataset.labels=[pro,anti]",
        "dataset.columns.id=id",
        "dataset.columns.target=target",
        "dataset.columns.split=split",
        "dataset.split.strategy=predefined",
        "dataset.dedup.exact=report",  # the toy splits repeat their short paragraphs
        "dataset.dedup.action=report",
    ]
    model = [
        "model=transformer",
        f"model.pretrained={tiny_bert}",
        "model.early_stopping_patience=null",
    ]
    model += [f"model.{key}={value}" for key, value in {**TINY, **TINY_QUIET}.items()]
    run_dir, processed = root / "run", root / "processed"
    overrides = [*dataset, *model, f"paths.processed_root={processed}", "evaluation.bootstrap=0"]
    train(compose_cfg("train", [*overrides, f"run_dir={run_dir}"]))
    return run_dir, processed


def test_export_checks_int8_agreement_and_refuses_below_the_threshold(
    toy_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run_dir, processed = toy_run
    with pytest.raises(StanceError, match=r"int8 gives PyTorch's label on only [\d.]+% of the 16"):
        export_model(run_dir, tmp_path / "refused", processed_root=str(processed), int8=True,
                     int8_min_agreement=1.01, repeats=1)  # fmt: skip
    assert not (tmp_path / "refused").exists()
    assert not list(tmp_path.iterdir())  # no partial folder left behind either


def test_export_refuses_to_write_when_parity_fails(toy_run: tuple[Path, Path], tmp_path: Path):
    run_dir, processed = toy_run
    with pytest.raises(StanceError, match=r"differ from PyTorch's by up to .* nothing written"):
        export_model(run_dir, tmp_path / "out", processed_root=str(processed), tolerance=-1.0)
    assert not list(tmp_path.iterdir())


def test_a_model_folder_outside_its_run_takes_the_dataset_from_the_command_line(
    toy_run: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from stance import runs
    from stance.export.command import validation_split

    run_dir, processed = toy_run
    moved = shutil.copytree(run_dir / "model", tmp_path / "model")
    with pytest.raises(StanceError, match="add dataset=NAME"):
        export_model(moved, processed_root=str(processed))
    dataset = runs.read_config(run_dir).dataset
    assert len(validation_split(moved, dataset, str(processed))) == 16


def test_export_script_writes_a_self_contained_folder_next_to_the_model(
    toy_run: tuple[Path, Path],
) -> None:
    from stance import load_model, runs

    run_dir, processed = toy_run
    command = [sys.executable, str(ROOT / "scripts" / "export.py"), f"model={run_dir}"]
    command += [f"paths.processed_root={processed}", "repeats=1", "int8=true"]
    command += ["int8_min_agreement=0"]  # whatever int8 does to the tiny random network
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = run_dir / "model" / "onnx"
    assert f"exported {folder}" in done.stdout
    names = {path.name for path in folder.iterdir()}
    assert {MODEL_FILE, INT8_FILE, EXPORT_META, "tokenizer.json"} <= names

    meta = json.loads((folder / EXPORT_META).read_text())
    assert meta["classes"] == CLASSES and meta["uses_target"]
    assert meta["temperature"] == load_model(run_dir).model.temperature_
    assert meta["validation"]["paragraphs"] == 16
    assert meta["validation"]["max_abs_diff"] <= 1e-4
    assert 0 <= meta["validation"]["int8_label_agreement"] <= 1
    assert set(meta["validation"]["speed"]["speedup_vs_pytorch"]) == {"onnx", "int8"}

    stored = runs.read_predictions(run_dir, "test")  # rows the export never checked against
    texts, targets = [r["text"] for r in stored], [r["target"] for r in stored]
    assert list(OnnxStanceModel(folder).predict(texts, targets)) == [r["pred"] for r in stored]
    assert len(OnnxStanceModel(folder, INT8_FILE).predict(texts, targets)) == len(stored)


def test_an_unknown_format_is_a_user_error() -> None:
    from stance.export.command import export_command
    from train_helpers import compose_cfg

    with pytest.raises(StanceError, match="use format=onnx"):
        export_command(compose_cfg("export", ["model_path=runs/x", "format=tflite"]))


@pytest.mark.slow
def test_packaged_minilm_exports_within_the_tolerance(toy_split: Callable, tmp_path: Path) -> None:
    from stance.models.transformer.model import PACKAGED_MINILM, resolve_pretrained

    model = untrained(resolve_pretrained(PACKAGED_MINILM), True, scale=1.0)
    validation = toy_split(20, 1, long_every=3)
    texts, targets = list(validation["text"]), list(validation["target"])
    export_onnx(model, tmp_path)
    onnx = OnnxStanceModel(tmp_path)
    reference = model.predict_proba(texts, targets)
    np.testing.assert_allclose(onnx.predict_proba(texts, targets), reference, atol=1e-4, rtol=0)


def test_the_onnx_runtimes_import_no_torch() -> None:
    """An export is served with onnxruntime, tokenizers and numpy: the windows, padding and
    per-paragraph means come from `stance.models.windows`, not the PyTorch transformer's modules."""
    code = (
        "import sys; import stance.models.onnx_runtime, stance.models.onnx_setfit; "
        "sys.exit(bool({'torch', 'transformers'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
