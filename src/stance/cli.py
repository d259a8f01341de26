"""Glue for the thin scripts: turn a StanceError into a clear message and exit status 2."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

from stance.errors import StanceError

EXIT_USER_ERROR = 2
P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a Hydra ``main``: a StanceError prints ``error: ...`` to stderr and exits 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with job_log():
            try:
                return fn(*args, **kwargs)
            except StanceError as err:
                print(f"error: {err}", file=sys.stderr)
                sys.exit(EXIT_USER_ERROR)

    return wrapper


class _Tee:
    """A text stream that also writes to the job log (progress-bar redraws, with \r, excepted)."""

    def __init__(self, stream: TextIO, log: TextIO) -> None:
        self.stream, self.log = stream, log

    def write(self, text: str) -> int:
        if "\r" not in text:
            self.log.write(text)
            self.log.flush()
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def job_log() -> Iterator[None]:
    """Copy what the job prints into its Hydra job log (``train.log``, ``evaluate.log``).

    Hydra's file handler only receives ``logging`` records, and the project reports with print,
    so without this the log stays empty. Jobs configured without a log file get none.
    """
    from hydra.core.hydra_config import HydraConfig

    try:
        handlers = HydraConfig.get().job_logging.get("handlers") or {}
    except ValueError:  # not inside a Hydra job
        handlers = {}
    filename = (handlers.get("file") or {}).get("filename")
    if not filename:
        yield
        return
    with open(filename, "a", encoding="utf-8") as log:
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = out, err


def model_path_argv(argv: Sequence[str]) -> list[str]:
    """Command-line ``model=PATH`` -> ``model_path=PATH``.

    ``configs/model/`` is a config group, so Hydra would read ``model=PATH`` as picking a model
    config; evaluate, predict, export and serve take a saved model's path instead.
    """
    return [
        f"model_path={arg[len('model=') :]}" if arg.startswith("model=") else arg for arg in argv
    ]


def field_help(schema: type) -> list[tuple[str, str, str]]:
    """(key, default, help) of every field of a config dataclass, nested ones as ``a.b``.

    The help is the field's comment in the schema's source (the line above it and the end of its
    line), so it is written once, next to the default it explains.
    """
    comments: dict[str, str] = {}
    for cls in reversed(schema.__mro__[:-1]):
        pending: list[str] = []
        for line in inspect.getsource(cls).splitlines()[1:]:
            stripped = line.strip()
            if stripped.startswith("#"):
                pending.append(stripped.lstrip("# "))
                continue
            match = re.match(r"\s{4}(\w+): [^#]*?(?:#\s*(.*))?$", line)
            if match:
                comments[match.group(1)] = " ".join([*pending, match.group(2) or ""]).strip()
            pending = []
    out = []
    for spec in dataclasses.fields(schema):
        default = spec.default_factory() if callable(spec.default_factory) else spec.default
        if dataclasses.is_dataclass(default):
            out += [(f"{spec.name}.{k}", d, h) for k, d, h in field_help(type(default))]
            continue
        shown = "???" if default == "???" else json.dumps(default)
        out.append((spec.name, shown, comments.get(spec.name, "")))
    return out


def script_help(argv: Sequence[str], usage: str, schema: type, config: str) -> None:
    """On ``--help``: print ``usage`` and the script's own keys, with the values ``configs/
    <config>.yaml`` gives them and the help lines of ``schema``; then exit."""
    if not {"--help", "-h"} & set(argv[1:]):
        return
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    configs = Path(argv[0]).resolve().parents[1] / "configs"
    with initialize_config_dir(str(configs), version_base="1.3"):
        composed = OmegaConf.to_container(compose(config), resolve=False)  # ${...} as written
    lines = [usage, "", "Keys (key=value on the command line; default, then what it does):"]
    for key, default, text in field_help(schema):
        value: Any = composed
        for part in key.split("."):
            value = value.get(part, default) if isinstance(value, dict) else default
        if (configs / key).is_dir():  # a config group: its choice, and the others
            names = sorted(f.stem for f in (configs / key).glob("*.yaml"))
            chosen = value.get("name") if isinstance(value, dict) else value
            default, text = chosen or "null", f"{text} (configs/{key}/: {', '.join(names)})".strip()
        elif value != "???" and value is not default:
            default = json.dumps(value)
        key = "model" if key == "model_path" else key  # model=PATH on the command line
        lines.append(f"  {key}={default}" + (f"\n      {text}" if text else ""))
    lines.append("\nHydra's own options: --hydra-help")
    print("\n".join(lines))
    sys.exit(0)
