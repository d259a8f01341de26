"""python scripts/build_dataset.py [dataset=NAME] [dataset.on_bad_rows=skip] [force=true]

Reads your export(s) as configs/dataset/<NAME>.yaml says (every dataset.* key is explained in
configs/dataset/csv_template.yaml), validates, deduplicates and splits them, and writes the dataset
with its card (card.md: counts, row accounting, leakage proof) to <paths.processed_root>/<name>/.
"""

from __future__ import annotations

from stance.cli import run
from stance.config_schemas import BuildDatasetConfig
from stance.data.build import build_command

if __name__ == "__main__":
    run(build_command, BuildDatasetConfig, "build_dataset")
