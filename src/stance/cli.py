"""Glue for the thin scripts: turn a StanceError into a clear message and exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from stance.errors import StanceError

EXIT_USER_ERROR = 2
P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a Hydra ``main``: a StanceError prints ``error: ...`` to stderr and exits 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StanceError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)

    return wrapper


def model_path_argv(argv: Sequence[str]) -> list[str]:
    """Command-line ``model=PATH`` -> ``model_path=PATH``.

    ``configs/model/`` is a config group, so Hydra would read ``model=PATH`` as picking a model
    config; evaluate, predict, export and serve take a saved model's path instead.
    """
    return [
        f"model_path={arg[len('model=') :]}" if arg.startswith("model=") else arg for arg in argv
    ]
