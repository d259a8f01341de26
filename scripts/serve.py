"""Serve a saved model over HTTP: `python scripts/serve.py model=PATH [port=8000]`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli import model_path_argv, script_help, user_errors
from stance.config_schemas import ServeConfig  # (importing it registers the schemas)
from stance.serve.service import serve


@hydra.main(version_base="1.3", config_path="../configs", config_name="serve")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.serve.service.serve``."""
    serve(cfg)


if __name__ == "__main__":
    script_help(sys.argv, __doc__, ServeConfig, "serve")
    sys.argv = model_path_argv(sys.argv)
    main()
