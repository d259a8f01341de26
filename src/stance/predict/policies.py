"""Which policy (target) the texts of an input file speak about, when no column says.

First found wins: the sidecar ``<name>.txt.target`` then ``<name>.target`` beside the file, then
a row of a ``targets.csv`` (columns ``file,target``; per row a file name or a glob: without "/"
it matches the file's name, with "/" its path under that folder) in the file's folder or in one
above it up to the input folder, nearest first, the first matching row of each. A table's
``target`` column beats all of these, and ``target=`` is the fallback for every text.
"""

from __future__ import annotations

import csv
import functools
from fnmatch import fnmatchcase
from pathlib import Path

from stance.errors import StanceError, problem

TARGET_SIDECAR = ".target"  # <file>.target next to an input: the policy its texts speak about
TARGETS_CSV = "targets.csv"  # in an input folder: file name or glob -> policy (never an input)


def sidecars(path: Path) -> list[Path]:
    """The sidecar files that may hold ``path``'s policy, in the order they are read."""
    return [path.with_name(path.name + TARGET_SIDECAR), path.with_suffix(TARGET_SIDECAR)]


def sidecar_target(path: Path) -> str | None:
    """The policy in ``<name>.txt.target`` or ``<name>.target`` beside ``path``, if any."""
    for sidecar in sidecars(path):
        if sidecar.is_file():
            target = sidecar.read_text(encoding="utf-8-sig").strip()
            if not target:
                fix = "write the policy in it (one line)"
                raise StanceError(problem(str(sidecar), "empty target file", fix))
            return target
    return None


def policy_files(path: Path, root: Path | None) -> list[Path]:
    """The ``targets.csv`` files that may cover ``path``: its folder's, then those above it up
    to the input folder ``root`` (None: none)."""
    if root is None:
        return []
    folders = [path.parent, *path.parent.parents]
    root = root.resolve()
    kept = [f for f in folders if f.resolve().is_relative_to(root)]
    return [f / TARGETS_CSV for f in kept]


def file_target(path: Path, root: Path | None) -> str | None:
    """The policy of a file's texts: a sidecar, else the first matching ``targets.csv`` row."""
    target = sidecar_target(path)
    for table in policy_files(path, root):
        if target is not None:
            break
        if table.is_file():
            stat = table.stat()
            relative = path.relative_to(table.parent).as_posix()
            target = _match(_policy_rows(table, stat.st_mtime_ns, stat.st_size), relative)
    return target


def _match(rows: tuple[tuple[str, str], ...], relative: str) -> str | None:
    """A pattern without "/" matches the file name; one with "/" the path under its folder."""
    name = relative.rsplit("/", 1)[-1]
    for pattern, target in rows:
        if fnmatchcase(relative if "/" in pattern else name, pattern):
            return target
    return None


@functools.lru_cache(maxsize=64)  # keyed by mtime and size too: an edited file is read again
def _policy_rows(table: Path, mtime: int, size: int) -> tuple[tuple[str, str], ...]:
    with table.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"file", "target"} <= set(reader.fieldnames):
            what = f"its header is {reader.fieldnames}, not file,target"
            fix = "first line: file,target; then one file name or glob and its policy per line"
            raise StanceError(problem(f"{table}:1", what, fix))
        rows = []
        for line, record in enumerate(reader, start=2):
            pattern, target = ((record.get(k) or "").strip() for k in ("file", "target"))
            if not pattern or not target:
                fix = "give a file name or glob and its policy, or remove the line"
                raise StanceError(problem(f"{table}:{line}", "empty file or target", fix))
            rows.append((pattern, target))
    return tuple(rows)


def missing_target(
    path: Path, root: Path | None, where: str | None, known: list[str] | None
) -> StanceError:
    """The error for a text of ``path`` (``where``: its row) without a policy, for a model that
    needs one: every place looked in, and what to write."""
    first, second = sidecars(path)
    covered = policy_files(path, root)
    places = [str(first), str(second), *map(str, covered)]
    column = "" if where is None else "a `target` column (columns.target=<yours>), "
    looked = f"looked for {column}{', '.join(places)} and target="
    example = f"its policy (one line, e.g. {known[0]!r})" if known else "its policy (one line)"
    in_csv = (
        f", or add a line `{path.name},<policy>` to {covered[0]} (header file,target; a "
        "file name or glob per line)"
        if covered
        else ""
    )
    fix = (
        f"write {example} in {first}{in_csv}, or give target=<policy> for every "
        "text. A sidecar beats targets.csv, which beats target="
        + (f". Policies this model knows: {', '.join(known)}" if known else "")
    )
    what = f"this model was trained per policy and this text has none ({looked})"
    return StanceError(problem(where or str(path), what, fix))
