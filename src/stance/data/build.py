"""Build a dataset end to end (read, validate, dedup, split, save, card) and load it back.

A build holds a lock on its output folder (`<processed_root>/.<name>.lock`): when two processes
build or load the same dataset, one builds and the other waits, then loads the result.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from filelock import FileLock
from omegaconf import DictConfig

from stance import folders
from stance.data import card as cards
from stance.data import history, rounds
from stance.data.dedup import deduplicate
from stance.data.schema import (
    SPLITS,
    TARGET_SPLITS,
    DatasetConfig,
    DatasetLike,
    as_dataset_config,
    config_dict,
    folder_name,
)
from stance.data.sources import input_hash, read_source
from stance.data.splitting import assign_splits
from stance.data.target_splits import split_by_target
from stance.data.validate import validate
from stance.errors import StanceError, problem

OPTIONAL = ("target", "source", "date")
QUIET_BELOW = 100_000  # rows: smaller datasets save in well under a second, without bars


def _lock(folder: Path) -> FileLock:
    folder.parent.mkdir(parents=True, exist_ok=True)
    # one lock object per file in a process: a build inside a load (same process) re-enters it
    return FileLock(str(folder.parent / f".{folder.name}.lock"), is_singleton=True)


def build_dataset(dataset_cfg: DatasetLike, processed_root: str | Path) -> Path:
    """Build `dataset_cfg` into <processed_root>/<name>/ (atomically) and return that folder."""
    cfg = as_dataset_config(dataset_cfg)
    folder = Path(processed_root) / folder_name(cfg)
    with _lock(folder):
        _build(cfg, folder)
    return folder


def _build(cfg: DatasetConfig, folder: Path) -> None:
    """read -> validate -> dedup -> split -> write (with the card beside it)."""
    loaded, overridden = rounds.latest_labels(read_source(cfg), cfg)
    valid = validate(loaded, cfg)
    # from here on only the rows' locations are read: the input's text can go
    loaded.table = loaded.table.select(
        [c for c in ("_line", "_file") if c in loaded.table.schema.names]
    )

    def where(i: int) -> str:
        """The location of the i-th validated row."""
        return loaded.where(int(valid.rows[i]))

    predefined = cfg.split.strategy == "predefined"
    dedup = deduplicate(valid.table, valid.label, cfg.dedup, cfg.labels, where, predefined)
    kept = np.flatnonzero(dedup.keep)
    if not len(kept):
        _nothing_left(cfg, folder, loaded.n_input, valid.excluded, valid.rejects)
    new_index = np.cumsum(dedup.keep) - 1
    together = (new_index[dedup.together[0]], new_index[dedup.together[1]])
    near = (new_index[dedup.near[0]], new_index[dedup.near[1]])
    table = valid.table.take(pa.array(kept)).combine_chunks()
    del valid.table  # one copy of the text at a time
    doc = pc.dictionary_encode(table["doc_id"].combine_chunks()).indices.to_numpy()
    label = valid.label[kept]
    by_target: dict = {}  # how targets were assigned (by_target, target_kfold)
    if cfg.split.strategy in TARGET_SPLITS:
        group = dedup.text_group[kept]
        split, by_target = split_by_target(table, group, together, cfg.split, cfg.name)
    else:
        split = assign_splits(table, doc, label, together, cfg.split, len(cfg.labels), cfg.name)
    columns = ["id", "text", "doc_id", *(c for c in OPTIONAL if c in table.column_names)]
    columns += [c for c in cfg.columns.extra if c in table.column_names]  # columns.extra
    out = table.select(columns).append_column("label", pa.array(label))
    splits = {s: out.filter(pa.array(split == k)) for k, s in enumerate(SPLITS)}
    excluded, rejects = valid.excluded, valid.rejects
    merged = {**dedup.counts, "overridden_by_later_round": overridden["overridden"]}
    merged["held_out_text_dropped"] = int((split < 0).sum())  # stance.data.target_splits
    placed = len(kept) - merged["held_out_text_dropped"]
    rows = cards.accounting(loaded.n_input, placed, merged, excluded, rejects, valid.blank)
    if not rows["balanced"]:
        raise RuntimeError(f"row accounting does not add up: {rows}")
    config_fp = cards.config_fingerprint(config_dict(cfg), loaded.input_hash)
    card = {
        "name": cfg.name,
        "folder": folder.name,
        "labels": list(cfg.labels),
        "neutral_label": cfg.neutral_label if cfg.neutral_label in cfg.labels else None,
        **dict(zip(("counts", "documents"), cards.counts(splits, cfg.labels), strict=True)),
        "split": {**config_dict(cfg)["split"], "date_ranges": _date_ranges(splits), **by_target},
        "source": loaded.extra,
        "config": config_dict(cfg),
        "input_hash": loaded.input_hash,
        "config_fingerprint": config_fp,
        "fingerprint": cards.content_fingerprint(splits),
        "builder_version": cards.BUILDER_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rejects_file": "rejects.jsonl" if cfg.on_bad_rows == "skip" else None,
        "rows": rows,
        "leakage": cards.leakage(split, doc, dedup.text_group[kept], near),
        "dedup": dedup.report,
        "round": {**rounds.round_info(cfg, loaded), "overridden": overridden},
        "previous": history.changes(*history.previous(folder), splits),
    }
    card["warnings"] = history.warnings(card, cfg.name)
    _write(folder, _dataset_dict(splits, cfg, config_fp), card, rejects, cfg)
    if rejects:
        print(
            f"{cfg.name}: {len(rejects)} rows rejected {rows['rejected_by_reason']}"
            f", see {folder / 'rejects.jsonl'}",
            file=sys.stderr,
        )
    for line in card["warnings"]:
        print(f"WARNING: {cfg.name}: {line}", file=sys.stderr)


def _write_rejects(path: Path, rejects: list[dict]) -> None:
    """One JSON line per rejected row: where, kind, reason and the row as read."""
    with path.open("w", encoding="utf-8") as fh:
        for r in rejects:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")


def _nothing_left(
    cfg: DatasetConfig, folder: Path, n_input: int, excluded: dict, rejects: list[dict]
) -> None:
    """Raise why no row survived, naming the most common causes (and write the rejects)."""
    causes = Counter({f"label {k!r} not in dataset.labels": v for k, v in excluded.items() if v})
    causes.update(r["kind"] for r in rejects)
    top = "".join(f"; {k}: {v}" for k, v in causes.most_common(3))
    what = f"no row is left to build from ({n_input} read, {len(rejects)} rejected{top})"
    fix = "fix the most common cause above" if causes else "export the labelled rows again"
    if rejects:
        first = rejects[0]
        fix += f"; the first reject is {first['where']}: {first['reason']}"
    if rejects and cfg.on_bad_rows == "skip":
        kept = folder.parent / f"{folder.name}.rejects.jsonl"  # the build folder is not written
        _write_rejects(kept, rejects)
        fix += f"; every reject is in {kept}"
    raise StanceError(problem(f"dataset '{cfg.name}' ({cfg.path})", what, fix))


def _date_ranges(splits: dict[str, pa.Table]) -> dict[str, list] | None:
    if "date" not in splits["train"].column_names:
        return None
    return {s: [pc.min(t["date"]).as_py(), pc.max(t["date"]).as_py()] for s, t in splits.items()}


def _dataset_dict(
    splits: dict[str, pa.Table], cfg: DatasetConfig, fingerprint: str
) -> datasets.DatasetDict:
    label = datasets.ClassLabel(names=list(cfg.labels))
    names = splits["train"].column_names
    text = datasets.Value("string")
    features = datasets.Features({c: label if c == "label" else text for c in names})
    info = datasets.DatasetInfo(features=features)
    schema = features.arrow_schema
    return datasets.DatasetDict(
        {
            # the config fingerprint (config, input content, builder version) determines the
            # content; passing it spares `datasets` hashing the whole table
            s: datasets.Dataset(t.cast(schema), info=info.copy(), fingerprint=f"{fingerprint}-{s}")
            for s, t in splits.items()
        }
    )


def _write(
    folder: Path, dsd: datasets.DatasetDict, card: dict, rejects: list[dict], cfg: DatasetConfig
) -> None:
    """Write into a temp folder next to `folder`, check it loads, then swap it in (the leftovers
    of a build killed mid-swap are removed first: `stance.folders.temp_folder`)."""
    tmp = folders.temp_folder(folder)
    try:
        # an empty split needs its one (empty) shard, or `load_from_disk` fails on it
        shards = {s: None if d.num_rows else 1 for s, d in dsd.items()}
        quiet = sum(d.num_rows for d in dsd.values()) < QUIET_BELOW
        bars_were_on = not datasets.are_progress_bars_disabled()
        if quiet:
            datasets.disable_progress_bars()
        try:
            dsd.save_to_disk(str(tmp), num_shards=shards)
        finally:
            if quiet and bars_were_on:
                datasets.enable_progress_bars()
        datasets.load_from_disk(str(tmp))  # never swap in a folder that does not load
        if cfg.on_bad_rows == "skip":
            _write_rejects(tmp / "rejects.jsonl", rejects)
        cards.write_card(tmp, card)  # last: a folder without card.json is not a dataset
        folders.swap_in(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_processed(path: str | Path) -> datasets.DatasetDict:
    """Load a built dataset folder (it must hold a card.json, written last by the build)."""
    cards.read_card(path)
    return datasets.load_from_disk(str(path))


def _stored_fingerprint(folder: Path) -> str | None:
    try:
        return cards.read_card(folder).get("config_fingerprint")
    except (StanceError, json.JSONDecodeError):
        return None


def is_current(dataset_cfg: DatasetLike, processed_root: str | Path) -> bool:
    """Whether <processed_root>/<name>/ was built from this config and this input."""
    cfg = as_dataset_config(dataset_cfg)
    expected = cards.config_fingerprint(config_dict(cfg), input_hash(cfg))
    return _stored_fingerprint(Path(processed_root) / folder_name(cfg)) == expected


def ensure_dataset(dataset_cfg: DatasetLike, processed_root: str | Path) -> datasets.DatasetDict:
    """Load the built dataset, building it first when missing or built from another config/input.

    Under the dataset's lock: a second process waits for the first one's build, then loads it.
    """
    cfg = as_dataset_config(dataset_cfg)
    folder = Path(processed_root) / folder_name(cfg)
    expected = cards.config_fingerprint(config_dict(cfg), input_hash(cfg))
    with _lock(folder):
        if _stored_fingerprint(folder) != expected:
            _build(cfg, folder)
        dataset = load_processed(folder)
        if _stored_fingerprint(folder) != expected:
            # e.g. a sweep building binary and 3-way variants under one name at the same time
            raise StanceError(
                problem(
                    str(folder),
                    "another build replaced this dataset with other settings while it loaded",
                    "give each variant its own dataset.name (e.g. dataset.name=demo3 for 3-way)",
                )
            )
    return dataset


def prepare_dataset(
    dataset_cfg: DatasetLike, processed_root: str | Path
) -> tuple[datasets.DatasetDict, dict]:
    """The built dataset (built first when missing or stale) and its card."""
    dataset = ensure_dataset(dataset_cfg, processed_root)
    folder = Path(processed_root) / folder_name(as_dataset_config(dataset_cfg))
    return dataset, cards.read_card(folder)


def build_command(cfg: DictConfig) -> None:
    """``scripts/build_dataset.py``: build unless current (``force`` rebuilds), then print where
    the dataset went and its headline counts."""
    root = cfg.paths.processed_root
    if not cfg.force and is_current(cfg.dataset, root):
        folder: str | Path = f"{root}/{cfg.dataset.name}"
        print(f"{folder} is current (same config and input); force=true rebuilds it")
    else:
        folder = build_dataset(cfg.dataset, root)
    card = cards.read_card(folder)
    print(f"{folder}: " + ", ".join(f"{s} {c['total']}" for s, c in card["counts"].items()))
    print(f"rows: {card['rows']}")
    print(f"leakage: {card['leakage']}")
