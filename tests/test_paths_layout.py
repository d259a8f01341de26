"""Where runs go: the roots in configs/paths/default.yaml, the folders below them in
configs/paths/layout/, each stated once; and the same folders as before the layout moved there
(so earlier runs are still found)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from stance.advice import kfold_command
from stance.compare import register_schema
from train_helpers import CONFIGS, compose_cfg

# What configs/train.yaml composed before the layout moved (Hydra's run dir, sweep dir, subdir).
TRAIN = {
    "": ("runs/demo/tfidf_logreg/default", "multirun/sweep", "demo/tfidf_logreg/default"),
    "model=tfidf_svm seed=2": (
        "runs/demo/tfidf_svm/seed-2",
        "multirun/sweep",
        "demo/tfidf_svm/seed-2",
    ),
    "model.C=4.0 dataset.split.seed=3": (
        "runs/demo/tfidf_logreg/dataset.split.seed-3+model.C-4",
        "multirun/sweep",
        "demo/tfidf_logreg/dataset.split.seed-3+model.C-4",
    ),
    "paths.runs_root=/x paths.sweeps_root=/y model.C=0.5": (
        "/x/demo/tfidf_logreg/model.C-0.5",
        "/y/sweep",
        "demo/tfidf_logreg/model.C-0.5",
    ),
    "sweep_name=demo_cv dataset.split.fold=2 dataset=demo_articles": (
        "runs/demo_articles/tfidf_logreg/dataset.split.fold-2",
        "multirun/demo_cv",
        "demo_articles/tfidf_logreg/dataset.split.fold-2",
    ),
    "+experiment=demo_cv dataset.split.fold=1": (
        "runs/demo/tfidf_logreg/+experiment-demo_cv+dataset.split.fold-1",
        "multirun/demo_cv",
        "demo/tfidf_logreg/+experiment-demo_cv+dataset.split.fold-1",
    ),
    "rerun=true logger=mlflow progress=false model.progress_bar=false": (
        "runs/demo/tfidf_logreg/model.progress_bar-false+progress-false",
        "multirun/sweep",
        "demo/tfidf_logreg/model.progress_bar-false+progress-false",
    ),
    "+hparams_search=tfidf_optuna model=tfidf_svm": (
        "runs/demo/tfidf_svm/default",
        "multirun/optuna_tfidf_svm_demo",
        "demo/tfidf_svm/default",
    ),
    "paths=default hydra/launcher=basic seed=1": (
        "runs/demo/tfidf_logreg/paths-default+seed-1",
        "multirun/sweep",
        "demo/tfidf_logreg/paths-default+seed-1",
    ),
}
# What configs/evaluate.yaml composed before (Hydra's run dir).
EVALUATE = {
    "model_path=runs/demo/tfidf_logreg/default": (
        "runs/evaluate/demo/runs_demo_tfidf_logreg_default/default"
    ),
    "model_path=/abs/run dataset.split.seed=3": "runs/evaluate/demo/abs_run/dataset.split.seed-3",
    "model_path=runs/demo/tfidf_logreg/default paths.runs_root=/x": (
        "/x/evaluate/demo/runs_demo_tfidf_logreg_default/default"
    ),
    "model_path=runs/x paths.processed_root=/p dataset=demo_articles": (
        "runs/evaluate/demo_articles/runs_x/default"
    ),
}


def hydra_dirs(config: str, overrides: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    cfg = compose_cfg(config, overrides.split(), return_hydra_config=True)
    return tuple(OmegaConf.select(cfg, f"hydra.{key}") for key in keys)


@pytest.mark.parametrize("overrides", TRAIN)
def test_training_runs_and_sweeps_go_where_they_went(overrides: str) -> None:
    keys = ("run.dir", "sweep.dir", "sweep.subdir")
    assert hydra_dirs("train", overrides, keys) == TRAIN[overrides]


@pytest.mark.parametrize("overrides", EVALUATE)
def test_evaluations_go_where_they_went(overrides: str) -> None:
    assert hydra_dirs("evaluate", overrides, ("run.dir",)) == (EVALUATE[overrides],)


def test_the_layout_is_stated_once_in_configs_paths() -> None:
    for name in ("train", "evaluate"):
        own = OmegaConf.load(CONFIGS / f"{name}.yaml").get("hydra", {})
        assert "run" not in own and "sweep" not in own, f"configs/{name}.yaml states a layout"
        layout = OmegaConf.to_container(OmegaConf.load(CONFIGS / "paths/layout" / f"{name}.yaml"))
        assert layout["run"]["dir"].startswith("${paths.runs_root}/")
    # the sweeps' root is named by configs/paths/default.yaml alone, among the top-level configs
    # and the code (the configs/experiment/ usage comments name it as the default's value)
    files = [*CONFIGS.glob("*.yaml"), *CONFIGS.glob("paths/**/*.yaml")]
    files += [*(CONFIGS.parent / "src").rglob("*.py"), *(CONFIGS.parent / "scripts").glob("*.py")]
    naming = [f for f in files if re.search(r"\bmultirun/", f.read_text())]
    assert naming == [], naming
    assert OmegaConf.load(CONFIGS / "paths" / "default.yaml").sweeps_root == "multirun"


@pytest.mark.parametrize("config", ["train", "evaluate", "build_dataset", "compare"])
def test_a_jobs_config_resolves_without_hydras_node(config: str) -> None:
    """A job's config has no ``hydra`` node (Hydra drops it before the job runs, and the config is
    written resolved into the run): the layout, which reads hydra.job, stays in the hydra node."""
    register_schema()
    overrides = {"train": ["run_dir=/r"], "evaluate": ["run_dir=/r", "model_path=runs/x"]}
    cfg = compose_cfg(config, overrides.get(config, []))
    assert "hydra" not in cfg
    assert OmegaConf.to_container(cfg, resolve=True)["paths"]["sweeps_root"] == "multirun"


@pytest.mark.parametrize("roots", [[], ["paths.sweeps_root=/y"]])
def test_the_kfold_advice_compares_the_folder_its_sweep_writes(roots: list[str]) -> None:
    train, compare = kfold_command("demo").split("; ")
    [sweep_name] = [a for a in train.split() if a.startswith("sweep_name=")]
    sweep = compose_cfg("train", [sweep_name, *roots], return_hydra_config=True).hydra.sweep.dir
    [runs] = re.findall(r"'(runs=.*)'", compare)
    register_schema()
    assert compose_cfg("compare", [runs, *roots]).runs == [sweep]
    assert Path(sweep).name == "demo_cv"
