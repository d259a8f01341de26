"""python scripts/compare.py [runs=[multirun/demo_sweep]] [+where.model.name=[tfidf_svm,minilm]]

One table per dataset fingerprint and test set (never pooled), one row per config, with intervals
and a paired test against the best; Markdown, CSV, HTML and charts in `out_dir`.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from stance.cli import script_help, user_errors
from stance.compare import compare, register_schema
from stance.compare.report import write_report
from stance.compare.table import CompareConfig


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
    script_help(sys.argv, __doc__, CompareConfig, "compare")
    main()
