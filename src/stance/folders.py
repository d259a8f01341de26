"""What keeps a folder whole: one writer at a time, and files and folders replaced whole.

- ``writer_lock(folder)``: ``<folder>/.stance.lock`` held while a process writes the folder (a run
  folder for the whole run); a second process stops with a message naming the first, or waits.
- ``replaced(path)``: a temp file beside ``path`` to write, renamed over it when done, so a kill
  or a full disk leaves the earlier file, never half of a new one.
- ``temp_folder`` / ``swap_in``: a folder written beside ``dest`` and renamed in. Both leftovers
  of a swap carry the writer's pid (``.<name>.tmp-<pid>-*``, ``.<name>.old-<pid>-*``), so the next
  writer removes those of a process that is gone (``clean_stale_swaps``).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from stance.errors import StanceError, problem

LOCK_FILE = ".stance.lock"
HOLDER_FILE = ".stance.lock.json"  # who holds the lock: pid, host, since, command
SWAP_KINDS = ("tmp", "old")


# -- one writer per folder --------------------------------------------------------------------
@contextlib.contextmanager
def writer_lock(folder: str | Path, what: str, wait: bool = False) -> Iterator[None]:
    """Hold ``folder``'s lock for the block. Held by another process: StanceError naming it, or
    (``wait``) wait for it. A folder this process cannot create files in is written by no one:
    it is not locked (the write that follows says what is wrong)."""
    folder = Path(folder)
    lock: FileLock | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / LOCK_FILE), timeout=0)
        _acquire(lock, folder, what, wait)
    except OSError:  # read-only, permission denied, no space for the lock file
        lock = None
    if lock is None:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            _write_holder(folder)
        yield
    finally:
        with contextlib.suppress(OSError):
            (folder / HOLDER_FILE).unlink()
        lock.release()


def _acquire(lock: FileLock, folder: Path, what: str, wait: bool) -> None:
    try:
        lock.acquire()
        return
    except Timeout:
        pass
    holder = f"another {what}{_holder(folder)}"
    if not wait:
        fix = (
            "wait for it to end (rerunning the command then reuses or continues its run), "
            "pass run_lock.wait=true to wait for it, or give this one its own run_dir=FOLDER"
        )
        raise StanceError(problem(str(folder), f"{holder} is writing this run folder", fix))
    print(f"{folder}: {holder} is writing this run folder; waiting for it to end", flush=True)
    lock.acquire(timeout=-1)


def _write_holder(folder: Path) -> None:
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv),
              "since": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    (folder / HOLDER_FILE).write_text(json.dumps(holder) + "\n", encoding="utf-8")


def _holder(folder: Path) -> str:
    """`` (pid 12, host h, since 2026-12-07T10:00:00+00:00: <command>)``, or '' if unknown."""
    try:
        info = json.loads((folder / HOLDER_FILE).read_text(encoding="utf-8"))
        said = f"pid {info['pid']} on {info['host']}, since {info['since']}"
        return f" ({said}: {info['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


# -- files and folders replaced whole ---------------------------------------------------------
@contextlib.contextmanager
def replaced(path: str | Path) -> Iterator[Path]:
    """A temp file beside ``path`` to write; renamed over ``path`` when the block ends without
    an error, removed when it ends with one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def temp_folder(dest: Path) -> Path:
    """A new name beside ``dest`` to write its replacement into, not yet created (the leftovers
    of dead writers are removed first)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_swaps(dest)
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}")


def swap_in(tmp: Path, dest: Path) -> None:
    """Put the folder ``tmp`` in place of ``dest``; the old one is removed once the new is in."""
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(dest, old)
    except FileNotFoundError:
        os.replace(tmp, dest)
        return
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def clean_stale_swaps(dest: Path) -> list[Path]:
    """Remove the swap leftovers beside ``dest`` whose writer is gone; returns them.

    A name without a pid was left by an earlier version of the tool: the caller holds the lock
    that every writer of ``dest`` takes, so no live process is writing it."""
    removed = []
    for kind in SWAP_KINDS:
        prefix = f".{dest.name}.{kind}-"
        for path in dest.parent.glob(glob.escape(prefix) + "*"):
            pid = re.match(r"(\d+)(?:-|$)", path.name[len(prefix) :])
            if pid and pid_alive(int(pid.group(1))):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (ours included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except (OverflowError, ValueError, OSError):
        return False
    return True
