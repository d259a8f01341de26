"""Choose what to label next: `python scripts/suggest.py model=RUN input=ARTICLES n=200`."""

from __future__ import annotations

from stance.cli import run
from stance.config_schemas import SuggestConfig
from stance.labelling.suggest import suggest_command

if __name__ == "__main__":
    run(suggest_command, SuggestConfig, "suggest", model_path=True)
