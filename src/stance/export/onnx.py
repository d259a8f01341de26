"""A fine-tuned transformer, or a SetFit model's tuned encoder, written as an ONNX export folder
(torch.onnx, dynamic batch and length)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from stance.errors import StanceError, problem
from stance.models.base import StanceModel
from stance.models.onnx_runtime import EXPORT_META, MODEL_FILE, TOKENIZER_FILE
from stance.models.onnx_setfit import KIND as SETFIT_KIND
from stance.models.setfit_model import SetFitStanceModel
from stance.models.transformer.data import encode_windows
from stance.models.transformer.model import TransformerStanceModel
from stance.models.windows import pad_batch

Exportable = TransformerStanceModel | SetFitStanceModel

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class _Logits(torch.nn.Module):
    """The classifier with positional inputs and one output, the window logits (batch, k)."""

    def __init__(self, model: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.input_names, inputs, strict=True))).logits


class _Embeddings(torch.nn.Module):
    """A sentence encoder with positional inputs and one output: the L2-normalised mean of its
    token states over the attention mask, (batch, width), as sentence-transformers computes it."""

    def __init__(self, encoder: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.encoder = encoder
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        features = dict(zip(self.input_names, inputs, strict=True))
        hidden = self.encoder(**features).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def exportable(model: StanceModel, where: str) -> Exportable:
    """``model`` itself when it has one network to export; any other family is a clear error."""
    if not model.supports_onnx:
        raise StanceError(
            problem(
                where,
                f"a {model.family or type(model).__name__} model: only transformer and SetFit "
                "models export to ONNX (a TF-IDF, hybrid or ensemble model has no single network "
                "to export)",
                "give the run directory of a model trained with model=setfit, transformer, "
                "minilm, distilroberta or mpnet",
            )
        )
    if isinstance(model, SetFitStanceModel):  # which exporter, not whether: supports_onnx said
        _check_setfit_body(model, where)
    return model


def _check_setfit_body(model: SetFitStanceModel, where: str) -> None:
    """The body must be a transformer, mean pooling and (optionally) a normalisation: what
    ``_Embeddings`` computes. Anything else is refused rather than exported differently."""
    modules = [type(module).__name__ for module in model.body_]
    pooling = getattr(model.body_[1], "pooling_mode", None) if len(modules) > 1 else None
    if modules[:2] != ["Transformer", "Pooling"] or modules[2:] not in ([], ["Normalize"]):
        what = f"the encoder's modules are {modules}; the export reads Transformer, Pooling"
    elif pooling != "mean":
        what = f"the encoder pools by {pooling!r}; the export computes mean pooling"
    else:
        return
    raise StanceError(problem(where, what, "export a SetFit model on a mean-pooling encoder"))


def export_meta(model: TransformerStanceModel, input_names: list[str]) -> dict[str, Any]:
    """What another runtime needs besides the network: labels, temperature, windowing."""
    tokenizer = model.tokenizer_
    return {
        "format": "onnx",
        "kind": "transformer",
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


def setfit_meta(model: SetFitStanceModel, input_names: list[str]) -> dict[str, Any]:
    """The head's coefficients and the windowing of a SetFit export."""
    window_tokens, stride = model.window_tokens
    head = model.head_
    return {
        "format": "onnx",
        "kind": SETFIT_KIND,
        "classes": list(model.classes_),
        "temperature": float(model.temperature_),
        "uses_target": model.uses_target,
        "max_length": model.max_length,
        "window_tokens": window_tokens,
        "stride": stride,
        "batch_size": model.embed_batch_size,
        "pad_token_id": model.body_.tokenizer.pad_token_id or 0,
        "inputs": input_names,
        "output": "sentence_embedding",
        "encoder": model.encoder,
        "head": {
            "coef": head.coef_.tolist(),
            "intercept": head.intercept_.tolist(),
            "classes": [int(c) for c in head.classes_],
        },
    }


def export_onnx(model: Exportable, folder: str | Path, opset: int | None = None) -> dict[str, Any]:
    """Write ``model.onnx``, the tokenizer files and ``stance_onnx.json`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Two inputs of different lengths, so neither axis is traced as a constant.
    texts = ["the plan is good", "we oppose the plan of this law because it harms us all"]
    if isinstance(model, SetFitStanceModel):
        tokenizer, where = model.body_.tokenizer, f"{model.encoder} -> ONNX"
        example = dict(tokenizer(texts, padding=True, return_tensors="pt"))
        input_names = [name for name in INPUTS if name in example]
        network: torch.nn.Module = _Embeddings(model.body_[0].auto_model, input_names)
        output, meta = "sentence_embedding", setfit_meta(model, input_names)
    else:
        tokenizer, where = model.tokenizer_, f"{model.pretrained} -> ONNX"
        targets = ["the plan", "the law"] if model.uses_target else None
        features = encode_windows(tokenizer, texts, targets, model.max_length, model.stride)
        input_names = [name for name in INPUTS if name in features]
        padded = pad_batch(features, [0, 1], tokenizer.pad_token_id or 0)
        example = {name: torch.from_numpy(array) for name, array in padded.items()}
        network = _Logits(model.model_, input_names)
        output, meta = "logits", export_meta(model, input_names)
    trace(network.cpu().eval(), [example[n] for n in input_names], output, folder, opset, where)
    tokenizer.save_pretrained(folder)
    if not (folder / TOKENIZER_FILE).is_file():
        raise StanceError(
            problem(str(folder), f"the tokenizer wrote no {TOKENIZER_FILE}", "use a fast tokenizer")
        )
    write_export_meta(folder, meta)
    return meta


def trace(
    network: torch.nn.Module,
    example: list[torch.Tensor],
    output: str,
    folder: Path,
    opset: int | None,
    where: str,
) -> None:
    """``torch.onnx.export`` of ``network`` to ``folder/model.onnx``, batch and length dynamic."""
    input_names = list(network.input_names)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer chatter
        try:
            torch.onnx.export(
                network,
                tuple(example),
                str(folder / MODEL_FILE),
                input_names=input_names,
                output_names=[output],
                dynamic_shapes=(tuple({0: batch, 1: length} for _ in input_names),),
                opset_version=opset,
                dynamo=True,
                external_data=False,  # one file: every encoder here is far below protobuf's 2 GB
                verbose=False,
            )
        except Exception as err:  # the exporter raises many types, all meaning "cannot export"
            raise StanceError(
                problem(
                    where,
                    f"torch.onnx.export failed: {type(err).__name__}: {str(err)[:500]}",
                    "check that onnxscript is installed (pip install -e '.[export]') and try "
                    "another opset=",
                )
            ) from err


def write_export_meta(folder: str | Path, meta: dict[str, Any]) -> None:
    """Write ``stance_onnx.json``."""
    (Path(folder) / EXPORT_META).write_text(json.dumps(meta, indent=2) + "\n")


def quantize_int8(source: str | Path, dest: str | Path) -> None:
    """Dynamic int8 quantization of the weights (activations quantized at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(dest), weight_type=QuantType.QInt8)
