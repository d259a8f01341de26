"""Glue for the thin scripts: turn a StanceError or an OSError into a clear message, exit 2."""

from __future__ import annotations

import dataclasses
import difflib
import errno
import inspect
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

from stance.errors import Interrupted, StanceError, problem

EXIT_USER_ERROR = 2
P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a Hydra ``main``: a StanceError, or an OSError (a full disk, a read-only folder,
    a permission, a symlink loop), prints ``error: ...`` to stderr and exits 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with job_log():
                try:
                    return fn(*args, **kwargs)
                except (StanceError, OSError) as err:  # printed here: the job log gets it too
                    _exit_with(err)
        except OSError as err:  # the job log itself (a read-only run folder)
            _exit_with(err)
        except (Interrupted, KeyboardInterrupt) as err:  # a stop, not a failure: no traceback
            name = err.signal_name if isinstance(err, Interrupted) else "SIGINT"
            print(f"stopped by {name}; the same command continues the run", file=sys.stderr)
            sys.exit(128 + int(getattr(signal.Signals, name)))

    return wrapper


def _exit_with(err: StanceError | OSError) -> None:
    message = str(err) if isinstance(err, StanceError) else os_error_message(err)
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


# errno -> what to do about it; others get the generic fix
OS_FIXES = {
    errno.ENOSPC: "free space on that disk, or point the output (run_dir, paths.*, output=) at "
    "another one; then run the same command again",
    errno.EDQUOT: "free space within your quota, or write to another disk",
    errno.EROFS: "the file system is read-only: write elsewhere (run_dir, paths.*, output=)",
    errno.EACCES: "give this user access to it (chmod/chown), or use another folder",
    errno.EPERM: "give this user access to it (chmod/chown), or use another folder",
    errno.ELOOP: "the path is a loop of symbolic links: point it at the real file or folder",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.EIO: "the disk reported an I/O error: check it, or use another disk",
}


def os_error_message(err: OSError) -> str:
    """One paragraph for an OSError: the path(s), the system's words and errno, and the fix."""
    paths = [str(p) for p in (err.filename, err.filename2) if p is not None]
    code = errno.errorcode.get(err.errno or 0, "")
    what = (err.strerror or str(err) or type(err).__name__) + (f" ({code})" if code else "")
    where = " -> ".join(paths) or "while reading or writing a file (the system named no path)"
    fix = OS_FIXES.get(err.errno or 0, "check the path, its permissions and the disk, then rerun")
    return problem(where, what, fix)


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


class JobLogFile(logging.FileHandler):
    """Hydra's job-log file handler (configs/hydra/job_logging/stance.yaml) that warns and drops
    the records when the file cannot be opened, instead of stopping the job before it starts."""

    def __init__(self, filename: str, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(filename, *args, **kwargs)
        except OSError as err:
            logging.Handler.__init__(self)
            self.stream = None
            self.baseFilename = os.path.abspath(filename)
            print(f"warning: no job log: {os_error_message(err)}", file=sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record when the file opened; drop it otherwise."""
        if self.stream is not None:
            super().emit(record)


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
    try:
        log = open(filename, "a", encoding="utf-8")  # noqa: SIM115  (closed below)
    except OSError as err:
        warned = any(  # the job-log handler said so already
            isinstance(h, JobLogFile) and h.stream is None for h in logging.getLogger().handlers
        )
        if not warned:
            print(f"warning: no job log: {os_error_message(err)}", file=sys.stderr)
        yield
        return
    with log:
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


def check_keys(argv: Sequence[str], schema: type, config: str) -> None:
    """Stop (exit 2) on a ``key=value`` whose key the script does not have, naming the closest
    keys, before Hydra answers with "To append to your config use +key=..." (a dead end: the key
    would be ignored). ``+key``, ``~key``, ``hydra.*`` and flags are Hydra's and pass through."""
    configs = Path(argv[0]).resolve().parents[1] / "configs"
    known = {key for key, _, _ in field_help(schema)}
    groups = {p.name for p in configs.iterdir() if p.is_dir()} | {"model", "hydra"}
    tops = {key.split(".")[0] for key in known} | groups
    nested = {key.split(".")[0] for key in known if "." in key}  # dataclass fields: keys checked
    for arg in argv[1:]:
        if arg.startswith(("-", "+", "~")) or "=" not in arg or "@" in arg.split("=", 1)[0]:
            continue
        key = arg.split("=", 1)[0]
        top = key.split(".")[0].split("/")[0]
        under = any(
            key.startswith(f"{k}.") for k in known
        )  # inside a free-form node (review.model)
        if top in tops and (top not in nested or key in known or under or top in groups):
            continue
        close = difflib.get_close_matches(key, sorted(known | groups), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        script = Path(argv[0]).name
        fix = f"{hint}every key: python scripts/{script} --help"
        print(f"error: {problem(arg, f'{script} has no key {key!r}', fix)}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def check_values(argv: Sequence[str], schema: type, config: str) -> None:
    """Compose ``configs/<config>.yaml`` with the command line's overrides before Hydra does, and
    stop (exit 2) on a value of the wrong type or an override Hydra cannot parse, naming the key,
    Hydra's reason and ``--help``, instead of Hydra's exit 1. Sweeps (``-m``) and command lines
    with ``hydra*`` overrides (a search path changes what composes) are left to Hydra; flags and
    their values (``--cfg job``) are not overrides."""
    args = [a for a in argv[1:] if ("=" in a or a.startswith("~")) and not a.startswith("-")]
    if not args or {"-m", "--multirun"} & set(argv[1:]):
        return
    if any(a.lstrip("+~").startswith("hydra") for a in args):  # e.g. hydra.searchpath: Hydra's
        return
    if any(spec.name == "model_path" for spec in dataclasses.fields(schema)):
        args = model_path_argv(args)
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    configs = Path(argv[0]).resolve().parents[1] / "configs"
    try:
        with initialize_config_dir(str(configs), version_base="1.3"):
            compose(config, overrides=args)
    except (HydraException, OmegaConfBaseException) as err:
        text = f"{err}\n{err.__cause__ or ''}".split("Config search path")[0]
        noise = ("full_key", "object_type", "See https", "Error merging override")
        lines = [x.strip() for x in text.splitlines() if x.strip()]
        reason = "; ".join(x for x in lines if not x.startswith(noise)) or lines[0]
        keys = [a for a in argv[1:] if "=" in a and a.split("=", 1)[0].lstrip("+~") in str(err)]
        script = Path(argv[0]).name
        fix = f"every key, its type and default: python scripts/{script} --help"
        print(
            f"error: {problem(keys[0] if keys else ' '.join(args), reason, fix)}", file=sys.stderr
        )
        sys.exit(EXIT_USER_ERROR)


def script_help(argv: Sequence[str], usage: str, schema: type, config: str) -> None:
    """On ``--help``: print ``usage`` and the script's own keys, with the values ``configs/
    <config>.yaml`` gives them and the help lines of ``schema``; then exit. Otherwise check the
    command line's keys and values first (``check_keys``, ``check_values``)."""
    if not {"--help", "-h"} & set(argv[1:]):
        check_keys(argv, schema, config)
        check_values(argv, schema, config)
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


def run(command: Callable[[Any], Any], schema: type, config: str, model_path: bool = False) -> Any:
    """A script's ``__main__``: ``script_help`` (its usage: the script's docstring), ``model=PATH``
    as a saved model's path when ``model_path``, then ``command(cfg)`` as the Hydra job of
    ``configs/<config>.yaml`` beside the script's folder, under ``user_errors``. The job's name
    (its log, ``train.log``) is that config's ``hydra.job.name``, not the command's module."""
    import hydra

    script_help(sys.argv, sys.modules["__main__"].__doc__ or "", schema, config)
    if model_path:
        sys.argv = model_path_argv(sys.argv)
    configs = Path(sys.argv[0]).resolve().parents[1] / "configs"
    job = hydra.main(version_base="1.3", config_path=str(configs), config_name=config)
    return job(user_errors(command))()
