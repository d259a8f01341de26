"""Advice the tool gives in more than one place (build card, training summary, report), once."""

from __future__ import annotations

SMALL_SPLIT = 30  # rows: a validation or test split below this scores with a wide interval


def small_split(split: str, rows: int, fix: str) -> str:
    """The warning for a validation or test split under ``SMALL_SPLIT`` rows, with ``fix``."""
    return f"the {split} split has only {rows} rows: its scores have wide intervals; {fix}"


def kfold_command(name: str) -> str:
    """The commands that cross-validate dataset `name` (5 grouped folds) and pool the folds (the
    sweep's folder named as configs/paths/ names it: Hydra resolves the interpolation)."""
    return (
        "python scripts/train.py -m dataset=<your config> dataset.split.strategy=kfold "
        f"'dataset.split.fold=range(5)' sweep_name={name}_cv; "
        f"python scripts/compare.py 'runs=[${{paths.sweeps_root}}/{name}_cv]'"
    )
