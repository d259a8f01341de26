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
from stance.models.batching import labels_from_proba
from stance.models.windows import pair_targets, paragraph_proba, window_logits

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


class OnnxRuntime:
    """What every export folder's runtime shares: its ``stance_onnx.json`` facts, tokenizers read
    from its ``tokenizer.json``, the onnxruntime session with its forward pass over batches of
    similar length, and ``predict``."""

    def __init__(
        self, folder: str | Path, model_file: str = MODEL_FILE, threads: int | None = None
    ) -> None:
        self.folder = Path(folder)
        self.meta = read_export_meta(self.folder)
        self.classes_: list[str] = list(self.meta["classes"])
        self.uses_target: bool = bool(self.meta["uses_target"])
        self.temperature: float = float(self.meta["temperature"])
        self.batch_size: int = int(self.meta["batch_size"])  # rows per forward pass, as PyTorch
        self.pad_token_id: int = int(self.meta["pad_token_id"])
        self.session = session(self.folder / model_file, threads)
        self.input_names = [node.name for node in self.session.get_inputs()]

    def tokenizer(self, max_length: int, **truncation: Any) -> Any:
        """The folder's tokenizer, unpadded, cutting at ``max_length`` tokens."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length, **truncation)
        return tokenizer

    def features(self, encodings: Sequence[Any]) -> dict[str, list[list[int]]]:
        """The network's inputs of each encoding, unpadded, by input name."""
        fields = {
            "input_ids": "ids",
            "attention_mask": "attention_mask",
            "token_type_ids": "type_ids",
        }
        return {name: [getattr(e, fields[name]) for e in encodings] for name in self.input_names}

    def run(self, features: dict[str, list[list[int]]], width: int) -> np.ndarray:
        """The network's output for every row of ``features``, (n, width), in their order."""

        def forward(batch: dict[str, Any]) -> np.ndarray:
            return self.session.run(None, batch)[0]

        return window_logits(features, width, self.batch_size, self.pad_token_id, forward)

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Class probabilities in ``classes_`` order: (n, k)."""
        raise NotImplementedError

    def predict(self, texts: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
        """The label name of each text."""
        return labels_from_proba(self.predict_proba(texts, targets), self.classes_)


class OnnxStanceModel(OnnxRuntime):
    """An export folder behind ``predict_proba`` / ``predict``: windows, temperature, mean."""

    def __init__(
        self, folder: str | Path, model_file: str = MODEL_FILE, threads: int | None = None
    ) -> None:
        super().__init__(folder, model_file, threads)
        # What transformers' encode_windows asks of the same backend: pairs cut in the text only.
        self.tokenizer_ = self.tokenizer(
            self.meta["max_length"],
            stride=self.meta["stride"],
            strategy="only_second" if self.uses_target else "longest_first",
            direction=self.meta.get("truncation_side", "right"),
        )

    def windows(
        self, texts: Sequence[str], targets: Sequence[str] | None
    ) -> tuple[dict[str, list[list[int]]], list[int]]:
        """Token windows of every paragraph (unpadded) and the paragraph each came from."""
        pairs = pair_targets(self.uses_target, targets)
        inputs: Any = list(texts)
        if pairs is not None:
            inputs = [(target or "", text) for target, text in zip(pairs, texts, strict=True)]
        try:
            encodings = self.tokenizer_.encode_batch(inputs)
        except Exception as err:  # the Rust tokenizer raises bare Exceptions for impossible windows
            raise StanceError(
                problem(
                    str(self.folder / EXPORT_META),
                    f"cannot cut the paragraphs into windows ({err})",
                    "shorten the longest `target`, or export a model with a larger max_length",
                )
            ) from err
        windows = [(i, w) for i, first in enumerate(encodings) for w in [first, *first.overflowing]]
        return self.features([w for _, w in windows]), [i for i, _ in windows]

    def window_logits(
        self, texts: Sequence[str], targets: Sequence[str] | None
    ) -> tuple[np.ndarray, list[int]]:
        """Logits of every window, (n_windows, k), batched by length like the PyTorch path."""
        features, source = self.windows(texts, targets)
        return self.run(features, len(self.classes_)), source

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Window probabilities at the model's temperature, averaged per paragraph: (n, k)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        logits, source = self.window_logits(texts, None if targets is None else list(targets))
        return paragraph_proba(logits, source, len(texts), self.temperature)
