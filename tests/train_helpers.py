"""Tiny stance corpora and composed train configs shared by the training/inference tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from stance.models.base import StanceModel

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PRO = ["support", "welcome", "praise", "benefit", "strengthen", "applaud"]
ANTI = ["oppose", "condemn", "reject", "harm", "weaken", "denounce"]
FILLER = [
    "the",
    "senator",
    "said",
    "on",
    "tuesday",
    "that",
    "this",
    "policy",
    "would",
    "matter",
    "for",
    "voters",
    "in",
    "ohio",
]
TARGETS = ["tariffs", "sanctions", "aid"]
SOURCES = ["Wire", "Herald"]


def tiny_split(n: int, seed: int, labels: tuple[str, ...] = ("pro", "anti")) -> Dataset:
    """``n`` paragraphs: a stance cue word plus filler; 15% of labels flipped so scores are < 1."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("id", "text", "label", "doc_id", "target", "source")}
    for i in range(n):
        label = int(rng.integers(len(labels)))
        cues = [PRO, ANTI, FILLER][label]
        words = [*rng.choice(FILLER, size=8), str(rng.choice(cues))]
        rng.shuffle(words)
        noisy = int(rng.integers(len(labels))) if rng.random() < 0.15 else label
        rows["id"].append(f"s{seed}-{i}")
        rows["text"].append(" ".join(words))
        rows["label"].append(noisy)
        rows["doc_id"].append(f"d{seed}-{i // 4}")
        rows["target"].append(TARGETS[i % len(TARGETS)])
        rows["source"].append(SOURCES[i % len(SOURCES)])
    features = Features(
        id=Value("string"),
        text=Value("string"),
        label=ClassLabel(names=list(labels)),
        doc_id=Value("string"),
        target=Value("string"),
        source=Value("string"),
    )
    return Dataset.from_dict(rows, features=features)


def tiny_dataset(labels: tuple[str, ...] = ("pro", "anti"), n: int = 120) -> DatasetDict:
    """Train / validation / test splits of ``tiny_split``."""
    return DatasetDict(
        train=tiny_split(n, 0, labels),
        validation=tiny_split(n // 3, 1, labels),
        test=tiny_split(n // 3, 2, labels),
    )


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
