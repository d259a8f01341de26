"""Compare runs: ``python scripts/compare.py runs=[multirun/demo_sweep]`` (configs/compare.yaml)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig, OmegaConf

from stance.cli import user_errors
from stance.compare import compare, register_schema
from stance.compare.report import write_report


@hydra.main(config_path="../configs", config_name="compare", version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Print the comparison table and write it as Markdown, CSV and PNG into ``out_dir``."""
    settings = OmegaConf.to_object(cfg)
    sections = compare(settings)
    paths = write_report(sections, settings)
    print(paths["md"].read_text())
    print("wrote " + ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    register_schema()
    main()
