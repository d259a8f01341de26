"""Serve a saved model over HTTP: `python scripts/serve.py model=PATH [port=8000]`."""

from __future__ import annotations

from stance.cli import run
from stance.config_schemas import ServeConfig
from stance.serve.service import serve

if __name__ == "__main__":
    run(serve, ServeConfig, "serve", model_path=True)
