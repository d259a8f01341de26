"""What a reader hands to the builder: string columns named by our fields, plus row locations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from stance.errors import StanceError, problem

# Our field names, in output order; `label` holds the raw label until validation maps it.
FIELDS = ("id", "text", "label", "doc_id", "target", "source", "date", "split")


@dataclass
class Loaded:
    """Rows read from one source: a table of our fields (strings) plus `_line` and maybe `_file`.

    `_line` is the 1-based line (or row, for Parquet) where each row starts; `_file` (int32) indexes
    `files` when rows come from several files. `rejects` are rows the reader itself could not parse.
    """

    table: pa.Table
    files: list[str]
    unit: str  # "line" or "row"
    n_input: int  # every input row, including those rejected while parsing
    input_hash: str
    rejects: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # source-specific counts for the card

    def where(self, i: int) -> str:
        """Human location of table row `i`: ``file, line N``."""
        f = self.table["_file"][i].as_py() if "_file" in self.table.column_names else 0
        return f"{self.files[f]}, {self.unit} {self.table['_line'][i].as_py()}"


def reject(where: str, kind: str, reason: str, record: object) -> dict:
    """One line of rejects.jsonl; `kind` is the short problem name counted in the card."""
    return {"where": where, "kind": kind, "reason": reason, "record": record}


def read_bytes(path: Path, what: str = "input file") -> bytes:
    """The bytes of an input file, or a StanceError that says which path is missing."""
    with _readable(path, what):
        return path.read_bytes()


@contextmanager
def _readable(path: Path, what: str) -> Iterator[None]:
    """Turn a missing file or a folder into a StanceError that names the path and the setting."""
    try:
        yield
    except FileNotFoundError:
        raise StanceError(
            problem(str(path), f"{what} not found", "check `dataset.path` (relative to the cwd)")
        ) from None
    except IsADirectoryError:
        raise StanceError(
            problem(str(path), f"{what} is a folder", "point `dataset.path` at a file")
        ) from None


def hash_bytes(*parts: bytes) -> str:
    """A content hash of input bytes (BLAKE2b, 128 bit, hex)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p)
    return h.hexdigest()


def bad_utf8(path: str, data: bytes, err: UnicodeDecodeError) -> StanceError:
    """The error for undecodable bytes: file, line, byte offset and the fix."""
    line = data.count(b"\n", 0, err.start) + 1
    byte = data[err.start : err.start + 1].hex()
    return StanceError(
        problem(
            f"{path}, line {line}",
            f"byte 0x{byte} at byte offset {err.start} is not valid UTF-8",
            "re-save the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)",
        )
    )
