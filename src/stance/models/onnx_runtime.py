"""An exported transformer run with onnxruntime and the `tokenizers` library (no torch model).

An export folder holds `model.onnx` (window logits), `tokenizer.json` and `stance_onnx.json`
(labels, temperature, windowing); this module reads only those, so what it computes is what any
other runtime reading the folder computes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance.errors import StanceError, problem
from stance.models.transformer.data import pair_targets, paragraph_proba, window_logits

EXPORT_META = "stance_onnx.json"
MODEL_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"


def read_export_meta(folder: str | Path) -> dict[str, Any]:
    """``stance_onnx.json`` of an export folder."""
    path = Path(folder) / EXPORT_META
    if not path.is_file():
        raise StanceError(
            problem(str(folder), f"not an ONNX export (no {EXPORT_META})", "run scripts/export.py")
        )
    return json.loads(path.read_text())


def session(file: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session of ``file`` (``threads``: intra-op threads, else its default)."""
    import onnxruntime as ort  # the optional [export] extra, loaded only to run a folder

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])


class OnnxStanceModel:
    """An export folder behind ``predict_proba`` / ``predict``: windows, temperature, mean."""

    def __init__(
        self, folder: str | Path, model_file: str = MODEL_FILE, threads: int | None = None
    ) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        meta = read_export_meta(self.folder)
        self.classes_: list[str] = list(meta["classes"])
        self.uses_target: bool = bool(meta["uses_target"])
        self.temperature: float = float(meta["temperature"])
        self.batch_size: int = int(meta["batch_size"])  # windows per forward pass, as in PyTorch
        self.pad_token_id: int = int(meta["pad_token_id"])
        self.tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        # What transformers' encode_windows asks of the same backend: pairs cut in the text only.
        self.tokenizer.enable_truncation(
            meta["max_length"],
            stride=meta["stride"],
            strategy="only_second" if self.uses_target else "longest_first",
            direction=meta.get("truncation_side", "right"),
        )
        self.session = session(self.folder / model_file, threads)
        self.input_names = [node.name for node in self.session.get_inputs()]

    def windows(
        self, texts: Sequence[str], targets: Sequence[str] | None
    ) -> tuple[dict[str, list[list[int]]], list[int]]:
        """Token windows of every paragraph (unpadded) and the paragraph each came from."""
        pairs = pair_targets(self.uses_target, targets)
        inputs: Any = list(texts)
        if pairs is not None:
            inputs = [(target or "", text) for target, text in zip(pairs, texts, strict=True)]
        try:
            encodings = self.tokenizer.encode_batch(inputs)
        except Exception as err:  # the Rust tokenizer raises bare Exceptions for impossible windows
            raise StanceError(
                problem(
                    str(self.folder / EXPORT_META),
                    f"cannot cut the paragraphs into windows ({err})",
                    "shorten the longest `target`, or export a model with a larger max_length",
                )
            ) from err
        features: dict[str, list[list[int]]] = {name: [] for name in self.input_names}
        source: list[int] = []
        for paragraph, first in enumerate(encodings):
            for window in [first, *first.overflowing]:
                fields = {
                    "input_ids": window.ids,
                    "attention_mask": window.attention_mask,
                    "token_type_ids": window.type_ids,
                }
                for name in self.input_names:
                    features[name].append(fields[name])
                source.append(paragraph)
        return features, source

    def window_logits(
        self, texts: Sequence[str], targets: Sequence[str] | None
    ) -> tuple[np.ndarray, list[int]]:
        """Logits of every window, (n_windows, k), batched by length like the PyTorch path."""
        features, source = self.windows(texts, targets)

        def forward(batch: dict[str, Any]) -> np.ndarray:
            return self.session.run(None, {k: v.numpy() for k, v in batch.items()})[0]

        logits = window_logits(
            features, len(self.classes_), self.batch_size, self.pad_token_id, forward
        )
        return logits, source

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Window probabilities at the model's temperature, averaged per paragraph: (n, k)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        logits, source = self.window_logits(texts, None if targets is None else list(targets))
        return paragraph_proba(logits, source, len(texts), self.temperature)

    def predict(self, texts: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
        """The label name of each text."""
        proba = self.predict_proba(texts, targets)
        return np.asarray(self.classes_, dtype=object)[proba.argmax(axis=1)]
