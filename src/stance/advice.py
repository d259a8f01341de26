"""Advice the tool gives in more than one place (build card, training summary, report), once."""

from __future__ import annotations

SMALL_SPLIT = 30  # rows: a validation or test split below this scores with a wide interval


def kfold_command(name: str) -> str:
    """The commands that cross-validate dataset `name` (5 grouped folds) and pool the folds."""
    return (
        "python scripts/train.py -m dataset=<your config> dataset.split.strategy=kfold "
        f"'dataset.split.fold=range(5)' sweep_name={name}_cv; "
        f"python scripts/compare.py 'runs=[multirun/{name}_cv]'"
    )
