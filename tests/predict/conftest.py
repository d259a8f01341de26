"""A finished run folder holding a tiny text-only model, shared by the inference tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import tiny_dataset
from stance import runs
from stance.models.sklearn_models import TfidfStanceModel


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run folder holding a text-only model trained on the tiny corpus."""
    folder = tmp_path_factory.mktemp("run")
    model = TfidfStanceModel(target_mode="none").fit(tiny_dataset()["train"])
    runs.save_model_atomic(model, folder / runs.MODEL_DIR, "# card\n")
    runs.end_run(folder, runs.start_run(folder, {}), "complete")
    return folder
