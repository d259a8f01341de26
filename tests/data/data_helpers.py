"""Dataset configs composed from the real files (the corpora live in ``fixtures``)."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import stance.config_schemas  # noqa: F401  (registers the config schemas)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TWEETEVAL = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "tweeteval_stance"


def compose_build(dataset: str, *overrides: str) -> DictConfig:
    """configs/build_dataset.yaml with `dataset=<dataset>` and the overrides."""
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        return compose("build_dataset", overrides=[f"dataset={dataset}", *overrides])


def user_dataset(path: Path, *overrides: str, labels: str | None = "[anti,pro]") -> DictConfig:
    """The csv_template dataset read from `path` (format from its suffix), all columns mapped;
    binary (`labels`) as these tests were written, None: the template's own (3-way) labels."""
    columns = [f"dataset.columns.{c}={c}" for c in ("id", "doc_id", "target", "source", "date")]
    columns += [f"dataset.labels={labels}"] if labels else []
    fmt = f"dataset.format={path.suffix.lstrip('.')}"
    return compose_build("csv_template", f"dataset.path={path}", fmt, *columns, *overrides).dataset
