"""Train rows borrowed from other built datasets (`dataset.auxiliary=[NAME, ...]`).

Only an auxiliary dataset's train split is added, with its labels renamed onto the user's label
order and its ids prefixed with its name; the user's validation and test stay as they are, and an
auxiliary row whose normalised text equals one of theirs is left out, since training on it would
make their score a score on seen text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from datasets import Dataset, DatasetDict, concatenate_datasets
from omegaconf import DictConfig

from stance.data.build import prepare_dataset
from stance.data.overlap import text_hashes
from stance.data.schema import DatasetLike
from stance.errors import StanceError, problem

# the repository's configs/, for a train(cfg) called outside a Hydra app (tests, notebooks)
CONFIGS = Path(__file__).resolve().parents[3] / "configs"
EVALUATED = ("validation", "test")


def add_train_rows(
    dataset: DatasetDict, dataset_cfg: DatasetLike, processed_root: str, verbose: bool = True
) -> tuple[DatasetDict, list[dict]]:
    """``dataset`` with the train rows of ``dataset_cfg.auxiliary`` appended to its train split,
    and one record per auxiliary dataset (name, fingerprint, rows added, rows left out)."""
    plain = isinstance(dataset_cfg, dict | DictConfig)
    names = (dataset_cfg.get("auxiliary") if plain else dataset_cfg.auxiliary) or []
    user = dataset_cfg.get("name") if plain else dataset_cfg.name
    records: list[dict] = []
    if not names:
        return dataset, records
    train = dataset["train"]
    seen = {h for s in EVALUATED if s in dataset for h in text_hashes(dataset[s]["text"])}
    parts = [train]
    for name in names:
        if name == user:
            what = f"dataset.auxiliary lists {name!r}, the dataset itself"
            raise StanceError(problem(f"dataset {user!r}", what, "name other datasets"))
        aux_data, card = prepare_dataset(compose_dataset(name), processed_root)
        aux_train = aux_data["train"]
        leaked = np.array([h in seen for h in text_hashes(aux_train["text"])], dtype=bool)
        kept = aux_train.select(np.flatnonzero(~leaked))
        parts.append(_aligned(kept, name, train, user))
        left_out = int(leaked.sum())
        fingerprint = card.get("fingerprint")
        records.append(
            {"dataset": name, "fingerprint": fingerprint, "rows": len(kept), "left_out": left_out}
        )
        if verbose:
            print(
                f"auxiliary: +{len(kept)} rows from {name} "
                f"({left_out} left out: same text as validation/test)"
            )
    out = DatasetDict(dataset)
    out["train"] = concatenate_datasets(parts)
    return out, records


def compose_dataset(name: str) -> DictConfig:
    """The dataset config ``configs/dataset/<name>.yaml``, composed as ``dataset=<name>`` would
    be: on the running Hydra app's config path (with its ``hydra.searchpath``), else on the
    repository's configs/."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return _compose(name)
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        return _compose(name)


def _compose(name: str) -> DictConfig:
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    paths = HydraConfig.get().searchpath if HydraConfig.initialized() else []
    search = [f"hydra.searchpath=[{','.join(repr(str(p)) for p in paths)}]"] if paths else []
    loader = GlobalHydra.instance().config_loader()
    options = loader.get_group_options("dataset", overrides=search)
    if name not in options:
        raise StanceError(
            problem(
                f"dataset.auxiliary={name!r}",
                "there is no such dataset config (configs/dataset/<name>.yaml)",
                f"use one of {options}",
            )
        )
    return compose(overrides=[*search, f"+dataset={name}"]).dataset


def _aligned(part: Dataset, name: str, train: Dataset, user: str) -> Dataset:
    """``part`` with the user's train columns and label order; ids prefixed with ``name``."""
    labels = train.features["label"].names
    theirs = part.features["label"].names
    unknown = [label for label in theirs if label not in labels]
    if unknown:
        what = f"its labels {unknown} are not among dataset {user!r}'s labels {labels}"
        fix = (
            f"give {name} the same label names: a copy of configs/dataset/{name}.yaml with "
            f"another `name`, `labels` among {labels} and `label_map` onto them"
        )
        raise StanceError(problem(f"auxiliary dataset {name!r}", what, fix))
    if "target" in train.column_names and "target" not in part.column_names:
        what = f"dataset {user!r} has a target per row and {name} has none"
        fix = f"map a target column in configs/dataset/{name}.yaml, or leave {name} out"
        raise StanceError(problem(f"auxiliary dataset {name!r}", what, fix))
    rename = np.array([labels.index(label) for label in theirs], dtype=np.int64)
    columns = {}
    for column in train.column_names:
        if column == "label":
            columns[column] = rename[np.asarray(part["label"], dtype=np.int64)]
        elif column in ("id", "doc_id"):  # never the same id or document as a user row
            columns[column] = [f"{name}:{value}" for value in part[column]]
        elif column in part.column_names:
            columns[column] = part[column]
        else:  # e.g. source, date: unknown for these rows
            columns[column] = [None] * len(part)
    return Dataset.from_dict(columns, features=train.features)
