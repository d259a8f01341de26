"""python scripts/compare.py ['runs=[${paths.sweeps_root}/demo_sweep]']
    [+where.model.name=[tfidf_svm,minilm]]

One table per dataset fingerprint and test set (never pooled), one row per config, with intervals
and a paired test against the best; Markdown, CSV, HTML and charts in `out_dir`.
"""

from __future__ import annotations

from stance.cli import run
from stance.compare import register_schema
from stance.compare.report import compare_command
from stance.compare.table import CompareConfig

if __name__ == "__main__":
    register_schema()
    run(compare_command, CompareConfig, "compare")
