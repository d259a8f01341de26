"""Assign rows to train / validation / test: grouped, random, time or predefined.

Rows are gathered into *units* that must not be separated: a document (grouped, time) or a row
(random), joined with everything it has a near-duplicate edge to. Units are then cut by the split
ratios, counted in rows: within each stratum (the unit's majority label) for grouped and random, in
date order for time (all units of one day land in the same split).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.dedup import components
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
    if cfg.strategy == "predefined":
        split = pc.index_in(table["split"], value_set=pa.array(SPLITS))
        return split.to_numpy(zero_copy_only=False).astype(np.int8)
    a, b = edges
    if cfg.strategy == "random":
        unit = components(n, a, b)
    else:
        doc = doc.astype(np.int64)
        unit = components(int(doc.max(initial=-1)) + 1, doc[a], doc[b])[doc]
    n_units = int(unit.max(initial=-1)) + 1
    size = np.bincount(unit, minlength=n_units)
    ratios = np.array([cfg.ratios[s] for s in SPLITS])
    if cfg.strategy == "time":
        unit_split = _cut(_unit_day(table["date"], unit, n_units), size, ratios)
    else:
        votes = np.bincount(unit * n_labels + label, minlength=n_units * n_labels)
        stratum = votes.reshape(n_units, n_labels).argmax(1) if cfg.stratify else np.zeros(n_units)
        rng = np.random.default_rng(cfg.seed)
        order = np.lexsort((rng.random(n_units), stratum))
        unit_split = np.empty(n_units, np.int8)
        for s in np.unique(stratum):
            members = order[stratum[order] == s]
            unit_split[members] = _cut(np.arange(len(members)), size[members], ratios)
    split = unit_split[unit]
    for k, s in enumerate(SPLITS):
        if ratios[k] > 0 and not (split == k).any():
            raise StanceError(
                problem(
                    f"dataset '{name}'",
                    f"split '{s}' came out empty ({n_units} units of {n} rows to share)",
                    "add data, or change dataset.split.ratios / dataset.split.strategy",
                )
            )
    return split


def _cut(position: np.ndarray, size: np.ndarray, ratios: np.ndarray) -> np.ndarray:
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
