"""Composed train configs, in-process scripts and rule models shared by the training/inference
tests (the corpora live in ``fixtures``)."""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, DatasetDict
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from stance.models.base import StanceModel

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def compose_cfg(
    config_name: str, overrides: list[str], return_hydra_config: bool = False
) -> DictConfig:
    """Compose a real top-level config from configs/ with ``overrides`` (and the hydra node, as a
    launcher sees it, with ``return_hydra_config``)."""
    import stance.config_schemas
    import stance.runs  # noqa: F401  (schemas and the run-dir resolvers)

    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose(config_name, overrides, return_hydra_config=return_hydra_config)


def write_csv(dataset: DatasetDict, path: Path) -> list[str]:
    """All splits of ``dataset`` as one CSV with label names; returns the overrides that point
    ``dataset=csv_template`` at it (named ``tiny``)."""
    import pandas as pd

    frames = []
    for split in dataset.values():
        frame = split.to_pandas()
        frame["label"] = [split.features["label"].names[i] for i in frame["label"]]
        frames.append(frame)
    pd.concat(frames).to_csv(path, index=False)
    columns = [f"dataset.columns.{c}={c}" for c in ("id", "doc_id", "target", "source")]
    labels = f"dataset.labels=[{','.join(next(iter(dataset.values())).features['label'].names)}]"
    return ["dataset=csv_template", "dataset.name=tiny", f"dataset.path={path}", labels, *columns]


def run_script_in_process(name: str, argv: list[str]) -> None:
    """Run ``scripts/<name>.py`` as ``__main__`` with ``argv`` in this process (no startup)."""
    import runpy
    import sys

    path = CONFIGS.parent / "scripts" / f"{name}.py"
    saved = sys.argv
    sys.argv = [str(path), *argv]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = saved


class RuleModel(StanceModel):
    """A model whose probabilities are a rule written in the test (nothing trained, nothing
    saved): a subclass gives ``classes_`` and ``predict_proba``."""

    family = "rule"

    def fit(self, train: Dataset, validation: Dataset | None = None, neutral_label=None):
        return self

    def save(self, path: str | Path) -> None:
        raise NotImplementedError("a rule model in a test is not saved")

    @classmethod
    def load(cls, path: str | Path) -> RuleModel:
        raise NotImplementedError("a rule model in a test is not saved")
