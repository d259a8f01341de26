"""Every file under configs/model/ and configs/dataset/ composes into a train config and builds
(as lightning-hydra-template's config tests do): a typo in a YAML fails here, not in a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance import models
from stance.data.schema import DatasetConfig, as_dataset_config
from stance.models.base import StanceModel
from train_helpers import CONFIGS, compose_cfg

MODEL_FILES = sorted(p.stem for p in (CONFIGS / "model").glob("*.yaml") if p.stem[0] != "_")
DATASET_FILES = sorted(p.stem for p in (CONFIGS / "dataset").glob("*.yaml"))


@pytest.mark.parametrize("name", MODEL_FILES)
def test_every_model_config_instantiates(name: str, tmp_path: Path) -> None:
    cfg = compose_cfg("train", [f"model={name}", f"run_dir={tmp_path}"])
    model = models.build(cfg.model)
    assert isinstance(model, StanceModel)
    assert cfg.model.name == name
    params = model.get_params()
    for key, value in cfg.model.items():  # the YAML's settings reach the constructor as given
        if key not in ("_target_", "name"):
            assert params[key] == value or list(params[key]) == list(value), key


@pytest.mark.parametrize("name", DATASET_FILES)
def test_every_dataset_config_composes_and_validates(name: str, tmp_path: Path) -> None:
    cfg = compose_cfg("train", [f"dataset={name}", f"run_dir={tmp_path}"])
    dataset = as_dataset_config(cfg.dataset)
    assert isinstance(dataset, DatasetConfig) and len(dataset.labels) >= 2
