"""An exported SetFit model run with onnxruntime, the `tokenizers` library and numpy (no torch
model, no sentence-transformers).

The folder holds `model.onnx` (the tuned encoder: token windows -> L2-normalised mean-pooled
embeddings), `tokenizer.json` and `stance_onnx.json`, whose `head` is the logistic regression's
coefficients. A paragraph is cut into the same text windows as ``SetFitStanceModel`` cuts (each
read as "target: window"), its window embeddings are averaged and normalised, and the head's
softmax at the fitted temperature is its probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stance.errors import StanceError, problem
from stance.models.calibration import softmax
from stance.models.onnx_runtime import (
    EXPORT_META,
    MODEL_FILE,
    OnnxRuntime,
    OnnxStanceModel,
    read_export_meta,
)
from stance.models.windows import pair_targets

KIND = "setfit"  # `kind` in stance_onnx.json


class OnnxSetFitModel(OnnxRuntime):
    """A SetFit export folder behind ``predict_proba`` / ``predict``."""

    def __init__(
        self, folder: str | Path, model_file: str = MODEL_FILE, threads: int | None = None
    ) -> None:
        super().__init__(folder, model_file, threads)
        head = self.meta["head"]
        self.coef = np.asarray(head["coef"], dtype=np.float64)  # (1 or k, width)
        self.intercept = np.asarray(head["intercept"], dtype=np.float64)
        self.head_classes = [int(i) for i in head["classes"]]  # class index of each head column
        self.splitter = self.tokenizer(int(self.meta["window_tokens"]), stride=self.meta["stride"])
        self.reader = self.tokenizer(int(self.meta["max_length"]))

    def inputs(self, texts: Sequence[str], targets: Sequence[str] | None) -> list[list[str]]:
        """Each paragraph's windows of text, "target: window" for a pair model (as in training)."""
        pairs = pair_targets(self.uses_target, targets)
        pieces = self.splitter.encode_batch(list(texts), add_special_tokens=False)
        windows = []
        for text, first in zip(texts, pieces, strict=True):
            parts = [first, *first.overflowing]
            windows.append(
                [self.splitter.decode(p.ids) for p in parts] if len(parts) > 1 else [text]
            )
        if pairs is None:
            return windows
        return [[f"{t}: {w}" for w in ws] for t, ws in zip(pairs, windows, strict=True)]

    def embed(self, inputs: list[list[str]]) -> np.ndarray:
        """One L2-normalised embedding per paragraph: the mean of its windows' embeddings."""
        flat = [w for ws in inputs for w in ws]
        source = np.repeat(np.arange(len(inputs)), [len(ws) for ws in inputs])
        width = self.coef.shape[1]
        vectors = self.run(self.features(self.reader.encode_batch(flat)), width)
        sums = np.zeros((len(inputs), width))
        np.add.at(sums, source, vectors)
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums

    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None
    ) -> np.ndarray:
        """Class probabilities in ``classes_`` order: (n, k)."""
        texts = list(texts)
        full = np.zeros((len(texts), len(self.classes_)))
        if not texts:
            return full
        scores = self.embed(self.inputs(texts, targets)) @ self.coef.T + self.intercept
        if scores.shape[1] == 1:  # a binary head: P(second) = sigmoid(s) = softmax([0, s])
            scores = np.column_stack([np.zeros(len(scores)), scores[:, 0]])
        full[:, self.head_classes] = softmax(scores / self.temperature)
        return full


def open_export(
    folder: str | Path, model_file: str = MODEL_FILE, threads: int | None = None
) -> OnnxStanceModel | OnnxSetFitModel:
    """The runtime an export folder needs, by the `kind` its ``stance_onnx.json`` states (folders
    written before SetFit could export have none and hold a transformer)."""
    kind = read_export_meta(folder).get("kind", "transformer")
    runtimes = {"transformer": OnnxStanceModel, KIND: OnnxSetFitModel}
    if kind not in runtimes:
        what = f"`kind` is {kind!r}; this version reads {sorted(runtimes)}"
        raise StanceError(problem(str(Path(folder) / EXPORT_META), what, "export the model again"))
    return runtimes[kind](folder, model_file, threads)
