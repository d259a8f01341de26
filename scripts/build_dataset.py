"""Build a dataset: ``python scripts/build_dataset.py dataset=demo``."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

import stance.config_schemas  # noqa: F401  (registers the config schemas)
from stance.cli import user_errors
from stance.data import build_dataset, is_current, read_card


@hydra.main(version_base="1.3", config_path="../configs", config_name="build_dataset")
@user_errors
def main(cfg: DictConfig) -> None:
    """Build (unless current) and print where the dataset went and its headline counts."""
    root = cfg.paths.processed_root
    if not cfg.force and is_current(cfg.dataset, root):
        folder = f"{root}/{cfg.dataset.name}"
        print(f"{folder} is current (same config and input); force=true rebuilds it")
    else:
        folder = build_dataset(cfg.dataset, root)
    card = read_card(folder)
    print(f"{folder}: " + ", ".join(f"{s} {c['total']}" for s, c in card["counts"].items()))
    print(f"rows: {card['rows']}")
    print(f"leakage: {card['leakage']}")


if __name__ == "__main__":
    main()
