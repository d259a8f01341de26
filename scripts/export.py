"""Export a transformer or SetFit model: `python scripts/export.py model=PATH format=onnx`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli import model_path_argv, script_help, user_errors
from stance.config_schemas import ExportConfig  # (importing it registers the schemas)
from stance.export.command import export_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="export")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.export.command.export_command``."""
    export_command(cfg)


if __name__ == "__main__":
    script_help(sys.argv, __doc__, ExportConfig, "export")
    sys.argv = model_path_argv(sys.argv)
    main()
