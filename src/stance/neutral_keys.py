"""The config keys that do not change what a run computes, stated once for the run folder's name,
the config hash and compare's grouping.

Patterns are fnmatch patterns over dotted keys (``paths.*``), as compare's ``ignore_overrides``
takes them. A key matching one is left out of the name of the run folder (train.yaml's
``exclude_keys`` reads ``stance_unnamed_keys``), out of the config hash (``without_neutral``) and
out of the overrides that tell compare's configs apart (``compare_ignored``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatch
from typing import Any

from omegaconf import OmegaConf

# Where a run's files go, how it is logged, launched, locked or shown.
RESULT_NEUTRAL = (
    "rerun",
    "run_dir",
    "sweep_name",
    "optimized_metric",
    "paths.*",
    "logger*",
    "distributed*",
    "run_lock*",
    "progress",
    "model.progress_bar",
)
# Neutral, yet named in run folders and compare rows as they were before this list: left out of
# the config hash only, so that existing runs keep their folders and their rows.
NAMED_ANYWAY = ("progress", "model.progress_bar")
# Overrides that name no run folder for other reasons: already in its path, or how it was launched.
IN_THE_PATH = ("dataset", "dataset.name", "model", "model.name")
LAUNCH = ("hparams_search", "hydra/launcher", "hydra/sweeper")
# compare's own: seeds are pooled into a row; the dataset is fixed by the section's fingerprint,
# but each train_fraction (applied after the build, not in the fingerprint) is a config of its own.
COMPARE_ONLY = ("seed", "hydra*", "dataset", "dataset.*", "hparams_search")
COMPARE_KEPT = "!dataset.train_fraction"


def named_neutral() -> list[str]:
    """The neutral patterns that keep a key out of folder names and compare's overrides."""
    return [p for p in RESULT_NEUTRAL if p not in NAMED_ANYWAY]


def compare_ignored() -> list[str]:
    """compare's default ``ignore_overrides``: its own patterns plus the neutral ones."""
    return [*COMPARE_ONLY, *named_neutral(), COMPARE_KEPT]


def unnamed_keys(overrides: Iterable[str]) -> list[str]:
    """Hydra's ``exclude_keys`` for a job with these overrides (``model.C=4``): the keys in the
    path, the launch choices, and each override's key that matches a named-neutral pattern."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    keys = [o.key_or_group for o in OverridesParser.create().parse_overrides(list(overrides))]
    neutral = named_neutral()
    return [*IN_THE_PATH, *LAUNCH, *(k for k in keys if any(fnmatch(k, p) for p in neutral))]


def without_neutral(plain: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``plain`` (a resolved config as dicts) without the nodes that every key under them makes
    neutral (``paths.*`` drops ``paths``) or that match a pattern themselves."""
    kept = {}
    for key, value in plain.items():
        dotted = f"{prefix}{key}"
        if _neutral(dotted):
            continue
        kept[key] = without_neutral(value, f"{dotted}.") if isinstance(value, dict) else value
    return kept


def _neutral(dotted: str) -> bool:
    return any(fnmatch(dotted, p) or fnmatch(f"{dotted}.*", p) for p in RESULT_NEUTRAL)


if not OmegaConf.has_resolver("stance_unnamed_keys"):  # train.yaml's exclude_keys
    OmegaConf.register_new_resolver("stance_unnamed_keys", unnamed_keys)
