"""A fine-tuned transformer written as an ONNX export folder (torch.onnx, dynamic batch, length)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from stance.errors import StanceError, problem
from stance.models.base import StanceModel
from stance.models.onnx_runtime import EXPORT_META, MODEL_FILE, TOKENIZER_FILE
from stance.models.transformer.data import encode_windows, pad_batch
from stance.models.transformer.model import TransformerStanceModel

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class _Logits(torch.nn.Module):
    """The classifier with positional inputs and one output, the window logits (batch, k)."""

    def __init__(self, model: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.input_names, inputs, strict=True))).logits


def exportable(model: StanceModel, where: str) -> TransformerStanceModel:
    """``model`` itself when it is a transformer; any other family is a clear error."""
    if not isinstance(model, TransformerStanceModel):
        raise StanceError(
            problem(
                where,
                f"a {model.family or type(model).__name__} model: only transformer models export "
                "to ONNX (a TF-IDF, hybrid or ensemble model has no single network to export)",
                "give the run directory of a model trained with model=transformer, minilm, "
                "distilroberta or mpnet",
            )
        )
    return model


def export_meta(model: TransformerStanceModel, input_names: list[str]) -> dict[str, Any]:
    """What another runtime needs besides the network: labels, temperature, windowing."""
    tokenizer = model.tokenizer_
    return {
        "format": "onnx",
        "classes": list(model.classes_),
        "temperature": float(model.temperature_),
        "uses_target": model.uses_target,
        "max_length": model.max_length,
        "stride": model.stride,
        "truncation_side": tokenizer.truncation_side,
        "batch_size": model.predict_batch_size,
        "pad_token_id": tokenizer.pad_token_id or 0,
        "inputs": input_names,
        "output": "logits",
        "pretrained": model.pretrained,
    }


def export_onnx(
    model: TransformerStanceModel, folder: str | Path, opset: int | None = None
) -> dict[str, Any]:
    """Write ``model.onnx``, the tokenizer files and ``stance_onnx.json`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Two windows of different lengths, so neither axis is traced as a constant.
    texts = ["the plan is good", "we oppose the plan of this law because it harms us all"]
    targets = ["the plan", "the law"] if model.uses_target else None
    features = encode_windows(model.tokenizer_, texts, targets, model.max_length, model.stride)
    input_names = [name for name in INPUTS if name in features]
    example = pad_batch(features, [0, 1], model.tokenizer_.pad_token_id or 0)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("sequence")
    network = _Logits(model.model_.cpu().eval(), input_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer chatter
        try:
            torch.onnx.export(
                network,
                tuple(example[name] for name in input_names),
                str(folder / MODEL_FILE),
                input_names=input_names,
                output_names=["logits"],
                dynamic_shapes=(tuple({0: batch, 1: length} for _ in input_names),),
                opset_version=opset,
                dynamo=True,
                external_data=False,  # one file: every encoder here is far below protobuf's 2 GB
                verbose=False,
            )
        except Exception as err:  # the exporter raises many types, all meaning "cannot export"
            raise StanceError(
                problem(
                    f"{model.pretrained} -> ONNX",
                    f"torch.onnx.export failed: {type(err).__name__}: {str(err)[:500]}",
                    "check that onnxscript is installed (pip install -e '.[export]') and try "
                    "another opset=",
                )
            ) from err
    model.tokenizer_.save_pretrained(folder)
    if not (folder / TOKENIZER_FILE).is_file():
        raise StanceError(
            problem(str(folder), f"the tokenizer wrote no {TOKENIZER_FILE}", "use a fast tokenizer")
        )
    meta = export_meta(model, input_names)
    write_export_meta(folder, meta)
    return meta


def write_export_meta(folder: str | Path, meta: dict[str, Any]) -> None:
    """Write ``stance_onnx.json``."""
    (Path(folder) / EXPORT_META).write_text(json.dumps(meta, indent=2) + "\n")


def quantize_int8(source: str | Path, dest: str | Path) -> None:
    """Dynamic int8 quantization of the weights (activations quantized at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(dest), weight_type=QuantType.QInt8)
