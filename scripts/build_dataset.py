"""python scripts/build_dataset.py [dataset=NAME] [dataset.on_bad_rows=skip] [force=true]

Reads your export(s) as configs/dataset/<NAME>.yaml says (every dataset.* key is explained in
configs/dataset/csv_template.yaml), validates, deduplicates and splits them, and writes the dataset
with its card (card.md: counts, row accounting, leakage proof) to <paths.processed_root>/<name>/.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli import script_help, user_errors
from stance.config_schemas import BuildDatasetConfig
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
    script_help(sys.argv, __doc__, BuildDatasetConfig, "build_dataset")
    main()
