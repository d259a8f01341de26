"""Where an output may go: never onto, or inside, anything the command reads.

An output written over its input empties it (opened for writing before the input is read); one
written inside an input folder, or where an input glob matches, is read back as input by the next
run. Paths are compared resolved (symlinks followed), before anything is opened for writing.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from stance.errors import StanceError, problem

READ_BACK = "the next run would read it back as input"


def refuse_inputs(
    key: str, outputs: Sequence[str | Path], inputs: Iterable[str | Path | None]
) -> None:
    """Stop when one of ``outputs`` (the first is what ``key=`` names; the others are written
    with it) is an input file, is or is inside an input folder, or matches an input glob.
    ``None`` and ``-`` (stdin, stdout) clash with nothing."""
    if not outputs or str(outputs[0]) == "-":
        return
    main = Path(outputs[0])
    written = [(Path(o), _resolve(o)) for o in outputs]
    for source in inputs:
        if source is None or str(source) == "-":
            continue
        for path, resolved in written:
            clash = _clash(resolved, str(source))
            if clash is None:
                continue
            what, outside = clash
            if path == main:
                fix = (
                    f"write it outside the input, e.g. {key}={outside / _free(main.name, outside)}"
                )
            else:
                what = f"writes {path}, which {what}"
                fix = f"give another {key}=, where no file it writes is an input"
            raise StanceError(problem(f"{key}={main}", what, fix))


def output_file(key: str, path: str | Path | None) -> None:
    """Stop when the output file ``path`` is an existing folder (or under a file)."""
    if path is None or str(path) == "-":
        return
    given = Path(path)
    if given.is_dir():
        fix = f"name a file in it, e.g. {key}={given / 'labels.jsonl'}"
        raise StanceError(problem(f"{key}={path}", "is a folder, not a file", fix))
    _no_file_above(key, given)


def output_folder(key: str, path: str | Path) -> None:
    """Stop when the output folder ``path`` is an existing file (or under one)."""
    given = Path(path)
    if given.exists() and not given.is_dir():
        what = f"is a file; {key}= names the folder the files go into"
        fix = f"give a folder (new or existing), e.g. {key}={given.with_suffix('')}_files"
        raise StanceError(problem(f"{key}={path}", what, fix))
    _no_file_above(key, given)


def _no_file_above(key: str, path: Path) -> None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            fix = f"give a {key}= whose folders are folders"
            raise StanceError(problem(f"{key}={path}", f"{parent} is a file, not a folder", fix))


def _resolve(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _clash(out: Path, source: str) -> tuple[str, Path] | None:
    """Why ``out`` may not be written while ``source`` is read, and a folder outside it."""
    if glob.has_magic(source):
        static, rest = _split_glob(source)
        if out.is_relative_to(static) and _matches(out.relative_to(static).parts, rest):
            return f"matches the input glob {source!r}: {READ_BACK}", static.parent
        for match in glob.glob(source, recursive=True):
            clash = _clash(out, glob.escape(match))
            if clash is not None:
                return clash
        return None
    inp = _resolve(source)
    if not inp.is_dir():
        return (f"is the input file {source}", inp.parent) if out == inp else None
    if out == inp:
        return f"is the input folder {source}", inp.parent
    if out.is_relative_to(inp):
        return f"is inside the input folder {source}: {READ_BACK}", inp.parent
    return None


def _split_glob(pattern: str) -> tuple[Path, tuple[str, ...]]:
    """``data/in/*.csv`` -> (the resolved ``data/in``, ``("*.csv",)``)."""
    parts = Path(pattern).parts
    head = next(i for i, p in enumerate(parts) if glob.has_magic(p))
    return _resolve(Path(*parts[:head]) if head else Path(".")), parts[head:]


def _matches(parts: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether path ``parts`` match glob ``pattern`` parts as ``glob(recursive=True)`` does."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    hidden = bool(parts) and parts[0].startswith(".") and not pattern[0].startswith(".")
    return (
        bool(parts)
        and not hidden
        and fnmatchcase(parts[0], pattern[0])
        and _matches(parts[1:], pattern[1:])
    )


def _free(name: str, folder: Path) -> str:
    """``name``, or ``<stem>.labels<suffix>`` when ``folder`` holds that name already."""
    if not (folder / name).exists():
        return name
    return f"{Path(name).stem}.labels{Path(name).suffix}"
