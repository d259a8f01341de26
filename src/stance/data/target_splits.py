"""Cross-target splits: whole targets held out (by_target) or left out in turn (target_kfold).

Targets, not documents, are the units: every row goes with its target, so a document labelled
under several targets can have rows in several splits (no leak: each row is about another
target; the card counts such documents and shows a few). Leakage is judged on the text: a row
whose normalised text, or a near-duplicate linked with dedup.action=same_split, is also in a
later split (test after validation after train) is left out (`split.held_out_text=drop`, the
default; `keep` keeps it and the card's leakage counts it). Held-out targets always keep every row.

target_kfold is leave-k-targets-out cross-validation: targets fall into `folds` folds, fold
`fold` is the test split, and validation is carved out of the other folds' targets.

With `split.assign=hash` a target's split (or fold) is a function of its name and the seed, so
adding targets moves none; this needs about MIN_HASHED targets per split, since with fewer a
split is left empty too often. Below that, targets are shuffled (seeded) and cut at the ratios
counted in rows; the card says which (`split.assigned_by`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from stance.data.schema import SPLITS, SplitConfig
from stance.data.splitting import cut, draws, strings
from stance.errors import StanceError, problem

MIN_HASHED = 10  # targets expected per split (or fold) below which assign=hash falls back
EXAMPLES = 5
LEFT_OUT = -1  # the split of a row left out for sharing a text with a later split
Pairs = tuple[np.ndarray, np.ndarray]


def split_by_target(
    table: pa.Table, text_group: np.ndarray, edges: Pairs, cfg: SplitConfig, name: str
) -> tuple[np.ndarray, dict]:
    """Split index per row (0 train, 1 validation, 2 test, LEFT_OUT) and the card's report."""
    where = f"dataset '{name}'"
    if "target" not in table.column_names:
        fix = "map dataset.columns.target, or use another dataset.split.strategy"
        raise StanceError(problem(where, f"{cfg.strategy} needs a target column", fix))
    names, target = np.unique(strings(table["target"]), return_inverse=True)
    size = np.bincount(target, minlength=len(names))
    if cfg.strategy == "by_target":
        ratios = np.array([cfg.ratios[s] for s in SPLITS])
        _enough(len(names), int((ratios > 0).sum()), "by_target", where, cfg)
        hashed = cfg.assign == "hash" and ratios[ratios > 0].min() * len(names) >= MIN_HASHED
        unit_split = _assign(names, size, ratios, cfg.seed, hashed, "")
    else:
        _enough(len(names), cfg.folds + 1, f"target_kfold with {cfg.folds} folds", where, cfg)
        hashed = cfg.assign == "hash" and len(names) / cfg.folds >= MIN_HASHED
        folds = np.full(cfg.folds, 1 / cfg.folds)
        fold = _assign(names, size, folds, cfg.seed, hashed, "")
        unit_split = np.where(fold == cfg.fold, 2, 0).astype(np.int8)
        rest = np.flatnonzero(unit_split == 0)
        share = cfg.validation_from_train or 0.1
        part = np.array([1 - share, share])
        carved = hashed and share * len(rest) >= MIN_HASHED
        sub = _assign(names[rest], size[rest], part, cfg.seed, carved, "validation")
        unit_split[rest[sub == 1]] = 1
        ratios = np.ones(len(SPLITS))
    split = unit_split[target]
    _check_filled(split, ratios, names, size, where)
    if cfg.held_out_text == "drop":
        split[_shared_with_later(split, text_group, edges)] = LEFT_OUT
        _check_filled(split, ratios, names, size, where, after_drop=True)
    report = {
        "assigned_by": "hash" if hashed else "shuffle",
        "targets": {s: len(np.unique(target[split == k])) for k, s in enumerate(SPLITS)},
        "documents_across_splits": _documents_across(table, names, target, split),
    }
    return split, report


def _enough(n: int, need: int, what: str, where: str, cfg: SplitConfig) -> None:
    if n >= need:
        return
    fix = "label more targets, or use dataset.split.strategy=grouped (or kfold)"
    if cfg.strategy == "target_kfold" and n >= 3:
        fix = f"set dataset.split.folds={n - 1} or fewer, or use dataset.split.strategy=kfold"
    raise StanceError(problem(where, f"only {n} targets; {what} needs at least {need}", fix))


def _assign(
    names: np.ndarray, size: np.ndarray, ratios: np.ndarray, seed: int, hashed: bool, salt: str
) -> np.ndarray:
    """Per target, its part of `ratios`: by its hash draw, or in a seeded shuffle cut by rows."""
    if hashed:
        bounds = np.cumsum(ratios)[:-1] / ratios.sum()
        return np.searchsorted(bounds, draws(names, seed, salt), side="right").astype(np.int8)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random(len(names)), kind="stable")
    out = np.empty(len(names), np.int8)
    out[order] = cut(np.arange(len(names)), size[order], ratios / ratios.sum())
    return out


def _check_filled(
    split: np.ndarray,
    ratios: np.ndarray,
    names: np.ndarray,
    size: np.ndarray,
    where: str,
    after_drop: bool = False,
) -> None:
    """Stop when a split that should have rows has none, naming the targets' sizes."""
    for k, s in enumerate(SPLITS):
        if ratios[k] <= 0 or (split == k).any():
            continue
        if after_drop:
            what = (
                f"split '{s}' came out empty: every one of its rows shares its text with a "
                "held-out target's row"
            )
            fix = "set dataset.split.held_out_text=keep (the card then counts the shared texts)"
        else:
            big = int(size.argmax())
            what = (
                f"split '{s}' came out empty: {len(names)} targets over {int(size.sum())} rows, "
                f"the largest ({names[big]!r}) with {int(size[big])} rows"
            )
            fix = "change dataset.split.seed or dataset.split.ratios, or label more targets"
        raise StanceError(problem(where, what, fix))


def _shared_with_later(split: np.ndarray, text_group: np.ndarray, edges: Pairs) -> np.ndarray:
    """Rows whose text (or a linked near-duplicate) is also in a later split: test > validation >
    train, so held-out targets stay whole and the copies leave the splits before them."""
    _, group = np.unique(text_group, return_inverse=True)
    latest = np.full(int(group.max(initial=-1)) + 1, -1, np.int64)
    np.maximum.at(latest, group, split)
    out = split < latest[group]
    a, b = edges
    out[a[split[a] < split[b]]] = True
    out[b[split[b] < split[a]]] = True
    return out


def _documents_across(
    table: pa.Table, names: np.ndarray, target: np.ndarray, split: np.ndarray
) -> dict:
    """Documents with rows in several splits (through their targets), and a few of them."""
    placed = np.flatnonzero(split >= 0)
    docs, doc = np.unique(strings(table["doc_id"]), return_inverse=True)
    seen = np.zeros((len(docs), len(SPLITS)), bool)
    seen[doc[placed], split[placed]] = True
    several = np.flatnonzero(seen.sum(1) > 1)
    examples = []
    for d in several[:EXAMPLES]:
        rows = placed[doc[placed] == d]
        by_split = {
            s: sorted(set(names[target[rows[split[rows] == k]]].tolist()))
            for k, s in enumerate(SPLITS)
        }
        shown = {s: t for s, t in by_split.items() if t}
        examples.append({"doc_id": str(docs[d]), "splits": shown})
    return {"documents": len(several), "examples": examples}
