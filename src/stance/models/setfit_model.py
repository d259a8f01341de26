"""Few-shot stance: SetFit (contrastive fine-tuning of a sentence encoder, then a linear head).

Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts", through the `setfit`
library: pairs of training paragraphs (same label: similar, different: dissimilar) fine-tune the
sentence encoder with a cosine-similarity loss; a class-weighted logistic regression is then fitted
on the tuned embeddings. Long paragraphs are cut into overlapping token windows whose embeddings
are averaged; with a `target`, each window is read as "target: window". Probabilities are the
head's softmax at a temperature fitted on validation.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np
from datasets import Dataset
from sklearn.linear_model import LogisticRegression

from stance.errors import StanceError, problem
from stance.models import encoders
from stance.models.base import MODEL_META_FILE, StanceModel, read_meta
from stance.models.calibration import fit_temperature, softmax
from stance.models.folder_check import construct, needs
from stance.models.setfit_folder import load_body, load_head, save_head

BODY_DIR = "body"
HEAD_FILE = "head.skops"


class SetFitStanceModel(StanceModel):
    """A sentence encoder tuned on contrastive pairs, then a logistic-regression head."""

    family = "setfit"
    supports_onnx = True
    calibrated = True
    check_folder = staticmethod(needs(HEAD_FILE, BODY_DIR))  # and params in stance_model.json

    def __init__(
        self,
        encoder: str = encoders.MINILM,
        use_target: bool = True,
        num_iterations: int = 20,
        max_steps: int = 120,
        batch_size: int = 16,
        body_learning_rate: float = 2e-5,
        max_length: int = 128,
        stride: int = 32,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        calibrate: bool = True,
        embed_batch_size: int = 64,
        progress_bar: bool = True,
        seed: int = 0,
    ) -> None:
        self.encoder = encoder  # a packaged encoder, a sentence-transformers folder or hub id
        self.use_target = use_target  # read "target: text" when the data has a target
        self.num_iterations = num_iterations  # contrastive pairs drawn per training paragraph
        self.max_steps = max_steps  # cap on optimizer steps (the cost bound); <= 0: no cap
        self.batch_size = batch_size  # pairs per optimizer step
        self.body_learning_rate = body_learning_rate  # AdamW learning rate of the encoder
        self.max_length = max_length  # tokens per window
        self.stride = stride  # tokens shared by consecutive windows of a long paragraph
        self.C = C  # inverse L2 strength of the head
        self.class_weight = class_weight  # balanced | None ("none" from a sweep)
        self.calibrate = calibrate  # fit a softmax temperature on validation (Guo et al., 2017)
        self.embed_batch_size = embed_batch_size  # windows per encoder call when embedding
        self.progress_bar = progress_bar  # setfit's training bar on stderr
        self.seed = seed  # pair sampling, encoder training and the head

    def check_params(self) -> None:
        """``class_weight`` balanced or none."""
        if self.class_weight not in (None, "none", "balanced"):
            fix = "use `balanced` or `none`"
            raise StanceError(problem("model.class_weight", f"unknown {self.class_weight!r}", fix))

    @property
    def uses_target(self) -> bool:
        """True when the encoder read "target: text"."""
        return bool(getattr(self, "uses_target_", False))

    # -- training -------------------------------------------------------------------------------
    def fit(
        self, train: Dataset, validation: Dataset | None = None, neutral_label: str | None = None
    ) -> Self:
        """Tune the encoder on pairs of ``train`` paragraphs, then fit the head on its output."""
        self.check_params()
        from setfit import SetFitModel, Trainer, TrainingArguments

        class_weight = None if self.class_weight == "none" else self.class_weight
        self.classes_ = list(train.features["label"].names)
        y = np.asarray(train["label"])
        if len(np.unique(y)) < 2:
            what = "the train split holds a single label; a classifier needs two or more"
            raise StanceError(problem("train split", what, "label paragraphs of other classes"))
        self.uses_target_ = self.use_target and "target" in train.column_names
        has_target = "target" in train.column_names
        self.seen_targets_ = sorted(set(train["target"])) if has_target else None
        self.body_ = load_body(encoders.resolve(self.encoder), "model.encoder")
        self.body_.max_seq_length = self.max_length
        inputs = self._inputs(list(train["text"]), self._targets(train))
        steps = self._steps(len(inputs))
        with tempfile.TemporaryDirectory(prefix="stance-setfit-") as scratch:
            args = TrainingArguments(
                output_dir=scratch,
                batch_size=self.batch_size,
                num_iterations=self.num_iterations,
                max_steps=steps,
                body_learning_rate=self.body_learning_rate,
                max_length=self.max_length,
                seed=self.seed,
                report_to="none",
                save_strategy="no",
                logging_steps=max(1, steps // 20),
                show_progress_bar=self.progress_bar,
            )
            trainer = Trainer(model=SetFitModel(model_body=self.body_), args=args)
            trainer.train_embeddings([window[0] for window in inputs], list(y), args=args)
        logged = trainer.st_trainer.state.log_history
        history = [entry["embedding_loss"] for entry in logged if "embedding_loss" in entry]
        self.fit_log_ = {
            "loss_first": history[0] if history else None,
            "loss_last": history[-1] if history else None,
            "steps": int(trainer.st_trainer.state.global_step),
            # setfit samples as many similar (1) as dissimilar (0) pairs: a constant cosine of
            # 0.5 scores an MSE of 0.25, the loss of a body that learned nothing
            "chance_loss": 0.25,
            "loss": "cosine similarity (MSE)",
        }
        self.head_ = LogisticRegression(
            C=self.C, class_weight=class_weight, max_iter=2000, random_state=self.seed
        ).fit(self._embed(inputs), y)
        self.temperature_ = 1.0
        if self.calibrate and validation is not None and len(validation):
            logits = self._logits(list(validation["text"]), self._targets(validation))
            self.temperature_ = fit_temperature(logits, np.asarray(validation["label"]))
        return self

    def _steps(self, n: int) -> int:
        """Optimizer steps: setfit's pairs (2 per iteration and paragraph) in batches, capped."""
        natural = math.ceil(2 * self.num_iterations * n / self.batch_size)
        return min(natural, self.max_steps) if self.max_steps > 0 else natural

    def _targets(self, split: Dataset) -> list[str] | None:
        return list(split["target"]) if self.uses_target else None

    def _inputs(self, texts: list[str], targets: Sequence[str] | None) -> list[list[str]]:
        """Each paragraph as its windows of text, each "target: window" when targets are used."""
        if self.uses_target and targets is None:
            raise StanceError(
                problem(
                    "predict",
                    "this model reads the policy (target) of every text and got none",
                    "give one target per text (a `target` column, or target=...)",
                )
            )
        windows = self._windows(texts)
        if not self.uses_target:
            return windows
        return [[f"{t}: {w}" for w in ws] for t, ws in zip(targets, windows, strict=True)]

    def _windows(self, texts: list[str]) -> list[list[str]]:
        """Overlapping token windows of each text (the text itself when it fits in one)."""
        tokenizer = self.body_.tokenizer
        budget, stride = self.window_tokens
        enc = tokenizer(
            texts,
            truncation=True,
            max_length=budget,
            stride=stride,
            return_overflowing_tokens=True,
            add_special_tokens=False,
        )
        out: list[list[str]] = [[] for _ in texts]
        for ids, source in zip(enc["input_ids"], enc["overflow_to_sample_mapping"], strict=True):
            out[source].append(tokenizer.decode(ids))
        return [ws if len(ws) > 1 else [text] for ws, text in zip(out, texts, strict=True)]

    @property
    def window_tokens(self) -> tuple[int, int]:
        """Tokens of text per window and tokens shared by consecutive windows; the budget leaves
        room for the special tokens and a short "target: " within ``max_length``."""
        budget = max(16, self.max_length - 24)
        return budget, min(self.stride, budget // 2)

    def _embed(self, inputs: list[list[str]]) -> np.ndarray:
        """One L2-normalised embedding per paragraph: the mean of its windows' embeddings."""
        flat = [w for ws in inputs for w in ws]
        source = np.repeat(np.arange(len(inputs)), [len(ws) for ws in inputs])
        vectors = self.body_.encode(
            flat,
            batch_size=self.embed_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        width = vectors.shape[1] if len(flat) else self.body_.get_sentence_embedding_dimension()
        sums = np.zeros((len(inputs), width))
        np.add.at(sums, source, vectors)
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums

    def _logits(self, texts: list[str], targets: Sequence[str] | None) -> np.ndarray:
        """The head's class scores (n, n_classes), whose softmax is its probability."""
        scores = self.head_.decision_function(self._embed(self._inputs(texts, targets)))
        if scores.ndim == 1:  # two classes: P(second) = sigmoid(s) = softmax([0, s])
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scores

    # -- prediction -----------------------------------------------------------------------------
    def predict_proba(
        self, texts: Sequence[str], targets: Sequence[str] | None = None, calibrated: bool = True
    ) -> np.ndarray:
        """Class probabilities in ``classes_`` order: the head's softmax at the fitted temperature
        (``calibrated=False``: at 1, the head's own probabilities)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        targets = None if targets is None else list(targets)
        full = np.zeros((len(texts), len(self.classes_)))
        temperature = self.temperature_ if calibrated else 1.0
        full[:, self.head_.classes_] = softmax(self._logits(texts, targets) / temperature)
        return full

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """The tuned encoder (sentence-transformers folder, safetensors), the head (skops) and
        ``stance_model.json``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.body_.save(str(folder / BODY_DIR), safe_serialization=True)
        save_head(self.head_, folder / HEAD_FILE, self.classes_)
        self.write_meta(folder, params=self.get_params(), uses_target=self.uses_target)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a folder written by ``save``; the head must be a plain logistic regression."""
        folder = Path(path)
        meta = read_meta(folder)
        model = construct(cls, meta.get("params"), folder / MODEL_META_FILE)
        model.read_meta(meta, folder / MODEL_META_FILE)
        model.uses_target_ = bool(meta.get("uses_target", False))
        model.head_ = load_head(folder / HEAD_FILE, model.classes_)
        model.body_ = load_body(str(folder / BODY_DIR), str(folder / BODY_DIR))
        model.body_.max_seq_length = model.max_length
        return model
