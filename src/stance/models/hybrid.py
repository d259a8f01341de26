"""Hybrid: frozen sentence embeddings next to the TF-IDF n-grams, in one linear model.

The encoder (MiniLM by default, any Hugging Face folder or hub id) is never trained: each text, as
a (target, text) pair when the data has targets, is mean-pooled over its tokens and L2-normalised,
then scaled by `embedding_weight` and appended to the TF-IDF features. Embeddings are cached on
disk by content (`cache_dir`, from the config only), so a sweep over C or the n-grams encodes
each dataset once. A model folder names no path: an encoder that is not packaged is copied into
it (`encoder/`), and a loaded model caches nothing.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from stance.errors import StanceError, problem
from stance.models import encoders
from stance.models.base import MODEL_META_FILE, extends, read_meta
from stance.models.sklearn_models import TfidfStanceModel
from stance.models.transformer.model import PACKAGED_MINILM, resolve_pretrained
from stance.models.transformer.progress import about
from stance.models.trusted import refuse

ENCODER_DIR = "encoder"  # a copy of an encoder that is not packaged, inside the model folder
PACKAGED = (encoders.MINILM, encoders.MPNET)


class HybridStanceModel(TfidfStanceModel):
    """TF-IDF n-grams + frozen mean-pooled sentence embeddings into a logistic regression."""

    family = "hybrid"
    local_params = ("cache_dir", "progress_bar")
    _network: tuple[Any, Any] | None = None  # (tokenizer, encoder) once loaded

    @extends(TfidfStanceModel)
    def __init__(
        self,
        encoder: str = PACKAGED_MINILM,  # a packaged encoder, or a Hugging Face folder / hub id
        embedding_weight: float = 1.0,  # scale of the embedding block next to the TF-IDF block
        embed_max_length: int = 256,  # tokens of (target, text) the encoder reads
        embed_batch_size: int = 64,  # paragraphs per encoder call
        # embeddings cached by content (a sweep encodes each dataset once); null: no cache
        cache_dir: str | None = None,
        C: float = 4.0,
        **inherited: Any,  # every other hyperparameter of TfidfStanceModel, by name (`extends`)
    ) -> None:
        """The encoder's settings, then `TfidfStanceModel`'s (C defaults to 4.0 here, for the wider
        feature set; ``progress_bar``: phase lines and, here, a bar while encoding)."""
        super().__init__(C=C, **inherited)
        self.encoder = encoder
        self.embedding_weight = embedding_weight
        self.embed_max_length = embed_max_length
        self.embed_batch_size = embed_batch_size
        self.cache_dir = cache_dir

    @property
    def uses_target(self) -> bool:
        """True when targets get weights of their own or go into the encoder's input pairs."""
        return super().uses_target or getattr(self, "pairs_", False)

    @property
    def requires_target(self) -> bool:
        """True when per-target classifiers or (target, text) embeddings need the target."""
        return super().requires_target or getattr(self, "pairs_", False)

    def check_params(self) -> None:
        """The TF-IDF model's checks, and a non-negative ``embedding_weight``."""
        super().check_params()
        if not self.embedding_weight >= 0:
            what, fix = f"{self.embedding_weight} is negative", "use 0 (n-grams only) or more"
            raise StanceError(problem("model.embedding_weight", what, fix))

    def shared_target_use(self) -> str:
        """The TF-IDF model's answer, plus whether the embeddings read (target, text) pairs."""
        pairs = getattr(self, "pairs_", False)
        return super().shared_target_use() + ("; embeddings of (target, text) pairs" * pairs)

    def transform(
        self, texts: Sequence[str], targets: Sequence[str] | None, fit: bool = False
    ) -> sp.csr_matrix:
        """TF-IDF rows with the weighted embedding of each (target, text) appended."""
        if fit:
            self.pairs_ = targets is not None
        grams = super().transform(texts, targets, fit)
        embedded = self.embed(texts, targets if self.pairs_ else None, announce=fit)
        return sp.hstack([grams, sp.csr_matrix(embedded * self.embedding_weight)], format="csr")

    def embed(
        self, texts: Sequence[str], targets: Sequence[str] | None, announce: bool = False
    ) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings (n, width), from the cache when there;
        ``announce`` (training): a bar and an estimate on stderr unless ``progress_bar`` is off."""
        texts = list(texts)
        key = hashlib.blake2b(digest_size=16)
        for part in (self.encoder, str(self.embed_max_length), *(targets or []), "\x00", *texts):
            key.update(part.encode() + b"\x1f")
        file = Path(self.cache_dir) / f"{key.hexdigest()}.npy" if self.cache_dir else None
        if file is not None and file.is_file():
            return np.load(file, allow_pickle=False)
        out = self._encode(texts, targets, announce and self.progress_bar)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(".tmp.npy")
            np.save(tmp, out, allow_pickle=False)
            tmp.replace(file)
        return out

    def _loaded(self) -> tuple[Any, Any]:
        """The encoder's tokenizer and network, loaded once per model object (predict.py calls
        ``predict_proba`` once per batch of paragraphs)."""
        from transformers import AutoModel, AutoTokenizer

        if self._network is None:
            source = resolve_pretrained(self.encoder)
            local = Path(source).is_dir()
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            self._network = (tokenizer, AutoModel.from_pretrained(source, local_files_only=local))
        return self._network

    def _encode(self, texts: list[str], targets: Sequence[str] | None, show: bool) -> np.ndarray:
        """Embeddings in the order of ``texts``, encoded in batches of similar length."""
        import torch
        from tqdm import tqdm

        tokenizer, model = self._loaded()
        model.eval()
        order = np.argsort([len(t) for t in texts], kind="stable")  # less padding per batch
        parts = []
        starts = range(0, len(texts), self.embed_batch_size)
        bar = tqdm(starts, "hybrid: embedding", unit="batch", file=sys.stderr, disable=not show)
        clock = time.monotonic()
        with torch.inference_mode():
            for start in bar:
                rows = order[start : start + self.embed_batch_size]
                batch = [texts[i] for i in rows]
                pair = [targets[i] for i in rows] if targets is not None else None
                enc = tokenizer(
                    *([pair, batch] if pair is not None else [batch]),
                    truncation=True,
                    max_length=self.embed_max_length,
                    padding=True,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state  # (batch, tokens, width)
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                parts.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
                if show and len(parts) == 1 and len(starts) > 1:
                    say_estimate(len(texts), len(starts) * (time.monotonic() - clock))
        width = model.config.hidden_size
        out = np.zeros((len(texts), width), np.float32)
        if parts:
            out[order] = np.concatenate(parts)
        return out

    def save(self, path: str | Path) -> None:
        """The TF-IDF model's files and a copy of an encoder that is not packaged (so that
        loading reads no path from the folder)."""
        super().save(path)
        if self.encoder not in PACKAGED:
            self._copy_encoder(Path(path) / ENCODER_DIR)

    def write_meta(self, folder: str | Path, **extra: Any) -> None:
        """The TF-IDF model's metadata, whether the encoder read (target, text) pairs, and where
        the copy of an encoder that is not packaged lies."""
        copy = {"encoder_copy": ENCODER_DIR} if self.encoder not in PACKAGED else {}
        super().write_meta(folder, **extra, **copy, pairs=self.pairs_)

    def _copy_encoder(self, folder: Path) -> None:
        from transformers import AutoModel, AutoTokenizer

        source = resolve_pretrained(self.encoder)
        local = Path(source).is_dir()
        AutoTokenizer.from_pretrained(source, local_files_only=local).save_pretrained(folder)
        AutoModel.from_pretrained(source, local_files_only=local).save_pretrained(folder)

    @classmethod
    def load(cls, path: str | Path) -> HybridStanceModel:
        """Read a folder written by ``save`` (the encoder is loaded again when first used): the
        encoder is a packaged one or the folder's own copy, and nothing is cached."""
        model = super().load(path)
        meta = read_meta(path)
        model.pairs_ = bool(meta.get("pairs", False))
        copy = Path(path) / ENCODER_DIR
        if meta.get("encoder_copy") == ENCODER_DIR and copy.is_dir():
            model.encoder = str(copy)
        elif model.encoder not in PACKAGED:
            what = f"params.encoder {model.encoder!r} names a folder or hub id outside the model"
            fix = f"retrain: a hybrid saved now keeps a copy of such an encoder in {ENCODER_DIR}/"
            refuse(Path(path) / MODEL_META_FILE, what, fix)
        model.cache_dir = None  # caches come from the config, never from a model folder
        return model


def say_estimate(n_texts: int, seconds: float) -> None:
    """How long encoding ``n_texts`` will take, on stderr (above the bar), measured from the
    first batch."""
    from tqdm import tqdm

    tqdm.write(
        f"hybrid: embedding {n_texts} texts, {about(seconds)} on this machine (once: cached by "
        "content in model.cache_dir); set model.embed_max_length lower or model.encoder smaller "
        "to shorten",
        file=sys.stderr,
    )
