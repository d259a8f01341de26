"""Train on a fraction of the training documents: the points of a learning curve.

``dataset.train_fraction`` keeps a share of the train split's *documents* (a document is never
cut), stratified by each document's majority label, after the dataset is built or loaded;
validation and test are untouched, so every fraction is scored on the same rows. The documents
of each stratum are ordered once by a hash of (split seed, doc_id) and a prefix is kept, so the
subsets are nested (10% inside 25% inside 50%) and do not depend on the order of the rows.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
from datasets import DatasetDict
from omegaconf import DictConfig, OmegaConf

from stance.errors import StanceError, problem

log = logging.getLogger(__name__)


def _rank(doc_id: str, seed: int) -> int:
    """A document's place in the fixed order: a hash, so adding documents moves no other one."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{doc_id}".encode(), digest_size=8).digest())


def kept_rows(
    doc_ids: Sequence[str], labels: Sequence[int], fraction: float, seed: int
) -> np.ndarray:
    """Indices (ascending) of the rows of the kept documents: about ``fraction`` of each stratum.

    A document's stratum is its majority label (ties: the lowest label index). Within a stratum,
    documents in hash order are kept while the middle of each stays within ``fraction`` of the
    stratum's rows, and always the first one, so every stratum keeps a document.
    """
    docs, doc = np.unique(np.asarray(doc_ids, dtype=str), return_inverse=True)
    label = np.asarray(labels, dtype=np.int64)
    n_labels = int(label.max(initial=-1)) + 1
    votes = np.bincount(doc * n_labels + label, minlength=len(docs) * n_labels)
    stratum = votes.reshape(len(docs), n_labels).argmax(1)
    size = np.bincount(doc, minlength=len(docs))
    keep = np.zeros(len(docs), dtype=bool)
    for s in np.unique(stratum):
        members = np.flatnonzero(stratum == s)
        members = members[np.argsort([_rank(d, seed) for d in docs[members]], kind="stable")]
        sizes = size[members]
        middle = np.cumsum(sizes) - sizes / 2  # a document is kept when its middle fits
        take = middle <= fraction * sizes.sum()
        take[0] = True
        keep[members[take]] = True
    return np.flatnonzero(keep[doc])


def apply_train_fraction(dataset: DatasetDict, dataset_cfg: object) -> DatasetDict:
    """``dataset`` with its train split cut to ``dataset_cfg.train_fraction`` of its documents."""
    node = dataset_cfg if isinstance(dataset_cfg, DictConfig) else OmegaConf.create(dataset_cfg)
    fraction = float(OmegaConf.select(node, "train_fraction", default=1.0))
    name = OmegaConf.select(node, "name", default="?")
    if not 0 < fraction <= 1:
        where = f"dataset '{name}': train_fraction={fraction}"
        fix = "use a share of the train documents in (0, 1], e.g. dataset.train_fraction=0.25"
        raise StanceError(problem(where, "must be in (0, 1]", fix))
    if fraction == 1:
        return dataset
    train = dataset["train"]
    seed = int(OmegaConf.select(node, "split.seed", default=0))
    rows = kept_rows(train["doc_id"], train["label"], fraction, seed)
    out = DatasetDict(dataset)
    out["train"] = train.select(rows)
    missing = sorted(set(train["label"]) - set(out["train"]["label"]))
    if missing:
        names = [train.features["label"].names[i] for i in missing]
        what = f"train_fraction={fraction} keeps no row labelled {names}"
        raise StanceError(problem(f"dataset '{name}'", what, "raise dataset.train_fraction"))
    log.info(
        "train_fraction=%s: %d of %d train rows (%d of %d documents)",
        fraction,
        len(rows),
        len(train),
        len(set(out["train"]["doc_id"])),
        len(set(train["doc_id"])),
    )
    return out
