"""One list of result-neutral keys (stance.neutral_keys): run folders, config hashes, compare."""

from __future__ import annotations

import pytest

from stance import neutral_keys
from stance.compare.table import CompareConfig
from stance.experiment.training import config_hash
from train_helpers import compose_cfg

# What each of the three listed before the one list (d70c4b5): nothing of it may change.
OLD_EXCLUDE_KEYS = [
    *("dataset", "dataset.name", "model", "model.name", "logger", "logger.tracking_uri"),
    *("logger.experiment", "rerun", "run_dir", "sweep_name", "paths.runs_root"),
    *("paths.processed_root", "paths.sweeps_root", "optimized_metric", "distributed.backend"),
    *("distributed.timeout_s", "run_lock.wait", "hparams_search", "hydra/launcher"),
    "hydra/sweeper",
]
OLD_NOT_IN_HASH = ("run_dir", "rerun", "logger", "sweep_name", "paths", "optimized_metric")
OLD_NOT_IN_HASH += ("distributed", "run_lock", "progress")
OLD_IGNORE_OVERRIDES = [
    *("seed", "hydra*", "dataset", "dataset.*", "sweep_name", "rerun", "run_dir", "paths.*"),
    *("logger*", "optimized_metric", "hparams_search", "run_lock*", "distributed*"),
    "!dataset.train_fraction",
]
CASES = [
    ["model=tfidf_svm", "seed=3", "model.C=0.5", "dataset.train_fraction=0.5"],
    ["logger=mlflow", "logger.experiment=x", "rerun=true", "paths.runs_root=/r", "sweep_name=q"],
    ["distributed.backend=gloo", "run_lock.wait=true", "optimized_metric=test/f1_macro"],
    ["model=transformer", "progress=false", "model.progress_bar=false", "paths=default"],
    ["+hparams_search=tfidf_optuna", "hydra/launcher=basic", "dataset.name=d2"],
]


def old_dirname(overrides: list[str]) -> str:
    """Hydra's override_dirname under the old exclude_keys."""
    kept = [o.lstrip("+") for o in overrides if o.lstrip("+").split("=")[0] not in OLD_EXCLUDE_KEYS]
    return ",".join(sorted(kept))


def old_hash_input(plain: dict) -> dict:
    """The resolved config as the old config_hash hashed it (before world size and dataset)."""
    plain = {k: v for k, v in plain.items() if k not in OLD_NOT_IN_HASH}
    plain["model"] = {k: v for k, v in plain["model"].items() if k != "progress_bar"}
    return plain


@pytest.mark.parametrize("overrides", CASES)
def test_folder_names_and_hashes_are_as_before_the_one_list(overrides: list[str]) -> None:
    from omegaconf import OmegaConf

    job = compose_cfg("train", [*overrides, "run_dir=/x"], return_hydra_config=True)
    assert job.hydra.job.override_dirname == old_dirname(overrides)
    cfg = compose_cfg("train", [*overrides, "run_dir=/x"])
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert neutral_keys.without_neutral(plain) == old_hash_input(plain)


def test_compare_ignores_what_it_ignored_before() -> None:
    assert sorted(CompareConfig().ignore_overrides) == sorted(OLD_IGNORE_OVERRIDES)


def test_a_key_added_to_the_list_leaves_all_three(monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = ["evaluation.bootstrap=7", "run_dir=/x"]
    before = config_hash(compose_cfg("train", overrides))
    named = compose_cfg("train", overrides, return_hydra_config=True).hydra.job.override_dirname
    assert named == "evaluation.bootstrap=7"
    neutral = (*neutral_keys.RESULT_NEUTRAL, "evaluation.bootstrap")
    monkeypatch.setattr(neutral_keys, "RESULT_NEUTRAL", neutral)
    job = compose_cfg("train", overrides, return_hydra_config=True)
    assert job.hydra.job.override_dirname == ""
    assert config_hash(compose_cfg("train", overrides)) != before
    assert config_hash(compose_cfg("train", overrides)) == config_hash(
        compose_cfg("train", ["run_dir=/x"])
    )
    assert "evaluation.bootstrap" in CompareConfig().ignore_overrides
