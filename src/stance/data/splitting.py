"""Assign rows to train / validation / test: grouped, random, time or predefined.

(by_target and target_kfold, whose units are targets: stance.data.target_splits.)

Rows are gathered into *units* that must not be separated: a document (grouped, time) or a row
(random), joined with everything it has a near-duplicate edge to. Units are then cut by the split
ratios, counted in rows: within each stratum (the unit's majority label) for grouped and random, in
date order for time (all units of one day land in the same split). Predefined splits follow the
`split` column; `validation_from_train` carves validation out of its train rows the grouped way.

With `split.assign=hash` (the default) grouped, random, kfold and the validation carve
do not shuffle: each unit draws a number in [0, 1) from a hash of the seed and its key (the doc_id;
the row id for random; the smallest draw of a unit's documents), and the
ratios cut that number. A document's split is then a function of its id and the seed alone: a new
labelling round adds documents without moving any (the card checks: `previous.documents_moved`).
The price: split sizes and label mix follow the ratios only on average (no stratification), so
small data gets a warning (stance.data.history) and k-fold is the way to score it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.dedup import components, oversized_group
from stance.data.schema import SPLITS, SplitConfig
from stance.errors import StanceError, problem


def assign_splits(
    table: pa.Table,
    doc: np.ndarray,
    label: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    cfg: SplitConfig,
    n_labels: int,
    name: str,
) -> np.ndarray:
    """Split index (0 train, 1 validation, 2 test) of every row; `doc` codes each row's doc_id."""
    n = table.num_rows
    ratios = np.array([cfg.ratios[s] for s in SPLITS])
    hashed = cfg.assign == "hash"
    # what a unit's hash draw reads (the strings are only needed when splits are hashed)
    key = strings(table["doc_id"]) if hashed else None
    if cfg.strategy in ("grouped", "random", "kfold", "time"):
        unit_doc = np.arange(n) if cfg.strategy == "random" else doc
        where = f"dataset '{name}'"
        chain = oversized_group(_units(unit_doc, edges), unit_doc, edges, table["id"], where)
        if chain:
            raise StanceError(chain)
    if cfg.strategy == "predefined":
        given = pc.index_in(table["split"], value_set=pa.array(SPLITS))
        split = given.to_numpy(zero_copy_only=False).astype(np.int8)
        if cfg.validation_from_train and not (split == 1).any():
            _carve_validation(
                split, cfg.validation_from_train, doc, label, edges, cfg, n_labels, key
            )
        ratios = np.ones(len(SPLITS))  # every split must have rows
    elif cfg.strategy == "kfold":
        # the same fold assignment for every `fold` (it depends on the seed only)
        folds = np.full(cfg.folds, 1 / cfg.folds)
        fold_of = _grouped(doc, label, edges, cfg, n_labels, folds, keys=key)
        split = np.where(fold_of == cfg.fold, 2, 0).astype(np.int8)
        share = cfg.validation_from_train or 0.1
        _carve_validation(split, share, doc, label, edges, cfg, n_labels, key)
        ratios = np.ones(len(SPLITS))
    elif cfg.strategy == "random" or cfg.strategy == "grouped":
        random = cfg.strategy == "random"
        unit_doc = np.arange(n) if random else doc
        keys = strings(table["id"]) if random and hashed else key
        split = _grouped(unit_doc, label, edges, cfg, n_labels, ratios, keys=keys)
    else:
        unit = _units(doc, edges)
        n_units = int(unit.max(initial=-1)) + 1
        size = np.bincount(unit, minlength=n_units)
        split = cut(_unit_day(table["date"], unit, n_units), size, ratios)[unit]
    for k, s in enumerate(SPLITS):
        if ratios[k] > 0 and not (split == k).any():
            fix = "add data, or change dataset.split.ratios / dataset.split.strategy"
            if cfg.strategy == "predefined" and k == 1:
                fix = "set dataset.split.validation_from_train=0.1 to carve it from train"
            elif cfg.strategy == "predefined":
                fix = f"give some rows split={s}, or use dataset.split.strategy=grouped"
            what = f"split '{s}' came out empty ({len(np.unique(doc))} documents, {n} rows)"
            raise StanceError(problem(f"dataset '{name}'", what, fix))
    return split


def strings(column: pa.ChunkedArray) -> np.ndarray:
    """A string column as a numpy array of Python strings."""
    return np.asarray(column.to_pylist(), dtype=object)


def _carve_validation(
    split: np.ndarray,
    share: float,
    doc: np.ndarray,
    label: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    cfg: SplitConfig,
    n_labels: int,
    key: np.ndarray | None,
) -> None:
    """Move ``share`` of the train rows (whole units, by their own hash draw) into validation."""
    rest = np.flatnonzero(split == 0)
    part = np.array([1 - share, share, 0])
    within = _within(edges, rest)
    sub = _grouped(
        doc[rest],
        label[rest],
        within,
        cfg,
        n_labels,
        part,
        keys=None if key is None else key[rest],
        salt="validation",
    )
    split[rest[sub == 1]] = 1


def _units(doc: np.ndarray, edges: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per row, its unit: its document joined with every document it has an edge to."""
    doc = doc.astype(np.int64)
    _, doc = np.unique(doc, return_inverse=True)
    a, b = edges
    return components(int(doc.max(initial=-1)) + 1, doc[a], doc[b])[doc]


def _within(edges: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> tuple:
    """The edges between `rows` (ascending), renumbered as positions in `rows`."""
    a, b = edges
    inside = np.isin(a, rows) & np.isin(b, rows)
    return np.searchsorted(rows, a[inside]), np.searchsorted(rows, b[inside])


def _grouped(
    doc: np.ndarray,
    label: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    cfg: SplitConfig,
    n_labels: int,
    ratios: np.ndarray,
    stratify: bool = True,
    keys: np.ndarray | None = None,
    salt: str = "",
) -> np.ndarray:
    """Units (documents joined by edges) cut by `ratios`: by their hash draw (`assign=hash`, from
    the rows' `keys`), or shuffled within each stratum (majority label)."""
    unit = _units(doc, edges)
    n_units = int(unit.max(initial=-1)) + 1
    if cfg.assign == "hash" and keys is not None:
        draw = np.ones(n_units)
        np.minimum.at(draw, unit, draws(keys, cfg.seed, salt))
        bounds = np.cumsum(ratios)[:-1] / ratios.sum()
        return np.searchsorted(bounds, draw, side="right").astype(np.int8)[unit]
    size = np.bincount(unit, minlength=n_units)
    votes = np.bincount(unit * n_labels + label, minlength=n_units * n_labels)
    by_label = cfg.stratify and stratify
    stratum = votes.reshape(n_units, n_labels).argmax(1) if by_label else np.zeros(n_units)
    rng = np.random.default_rng(cfg.seed)
    order = np.lexsort((rng.random(n_units), stratum))
    unit_split = np.empty(n_units, np.int8)
    for s in np.unique(stratum):
        members = order[stratum[order] == s]
        unit_split[members] = cut(np.arange(len(members)), size[members], ratios)
    return unit_split[unit]


def draws(keys: np.ndarray, seed: int, salt: str) -> np.ndarray:
    """Per row, a number in [0, 1) from a hash of (seed, salt, key): the same key, the same draw."""
    uniq, inverse = np.unique(keys.astype(str), return_inverse=True)
    out = np.empty(len(uniq))
    for i, k in enumerate(uniq):
        digest = hashlib.blake2b(f"{seed}\x1f{salt}\x1f{k}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0**64
    return out[inverse]


def cut(position: np.ndarray, size: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Split of each item, cutting items in `position` order by cumulative size at the ratios.

    Items sharing a position (a day) fall together: the cut uses the midpoint of their block.
    """
    order = np.argsort(position, kind="stable")
    pos, sz = position[order], size[order]
    block = np.r_[True, pos[1:] != pos[:-1]].cumsum() - 1
    block_size = np.bincount(block, weights=sz)
    middle = np.cumsum(block_size) - block_size / 2
    bounds = np.cumsum(ratios)[:-1] * sz.sum()
    out = np.empty(len(position), np.int8)
    out[order] = np.searchsorted(bounds, middle, side="right")[block]
    return out


def _unit_day(date: pa.ChunkedArray, unit: np.ndarray, n_units: int) -> np.ndarray:
    """Each unit's earliest date, in seconds since the epoch."""
    days = pc.cast(pc.strptime(date, format="%Y-%m-%d", unit="s"), pa.int64()).to_numpy()
    first = np.full(n_units, np.iinfo(np.int64).max)
    np.minimum.at(first, unit, days)
    return first
