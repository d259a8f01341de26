"""Export a transformer or SetFit model: `python scripts/export.py model=PATH format=onnx`."""

from __future__ import annotations

from stance.cli import run
from stance.config_schemas import ExportConfig
from stance.export.command import export_command

if __name__ == "__main__":
    run(export_command, ExportConfig, "export", model_path=True)
