"""Choose what to label next: `python scripts/suggest.py model=RUN input=ARTICLES n=200`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli import model_path_argv, script_help, user_errors
from stance.config_schemas import SuggestConfig  # (importing it registers the schemas)
from stance.labelling.suggest import suggest_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="suggest")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.labelling.suggest.suggest_command``."""
    suggest_command(cfg)


if __name__ == "__main__":
    script_help(sys.argv, __doc__, SuggestConfig, "suggest")
    sys.argv = model_path_argv(sys.argv)
    main()
