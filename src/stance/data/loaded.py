"""What a reader hands to the builder: string columns named by our fields, plus row locations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

from stance.data.kernels import buffers, copy_rows
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


def pick(values: pa.Table | pa.ChunkedArray, rows: np.ndarray) -> pa.Table | pa.ChunkedArray:
    """The given rows (ascending, no repeats) of a table or column, in order.

    A boolean filter copies chunk by chunk; `take` on many chunks concatenates them all first.
    """
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    return values.filter(pa.array(mask))


def gather_strings(column: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """The given rows (ascending, no repeats) of a string column, in one chunk.

    One copy, straight into one buffer: `pick` keeps the input's chunks, and writers that want
    one chunk (the `datasets` writer combines each batch) would copy the text a second time.
    """
    lengths, where = [], []
    starts = np.cumsum([0] + [len(c) for c in column.chunks])
    for chunk, lo, hi in zip(column.chunks, starts[:-1], starts[1:], strict=True):
        mine = rows[np.searchsorted(rows, lo) : np.searchsorted(rows, hi)] - lo
        offsets, _ = buffers(chunk)
        lengths.append(offsets[mine + 1].astype(np.int64) - offsets[mine])
        where.append(mine)
    out_offsets = np.concatenate(
        [[0], np.cumsum(np.concatenate([np.zeros(0, np.int64), *lengths]))]
    )
    nulls = column.null_count and column.is_null().to_numpy(zero_copy_only=False)[rows].any()
    if out_offsets[-1] >= 2**31 or nulls:  # past 32-bit offsets, or nulls: as given
        return pick(column, rows)
    out_offsets = out_offsets.astype(np.int32)
    out_data = np.empty(int(out_offsets[-1]), np.uint8)
    first = 0
    for chunk, mine in zip(column.chunks, where, strict=True):
        offsets, data = buffers(chunk)
        copy_rows(data, offsets, mine, out_data, out_offsets, first)
        first += len(mine)
    array = pa.Array.from_buffers(
        column.type, len(rows), [None, pa.py_buffer(out_offsets), pa.py_buffer(out_data)]
    )
    return pa.chunked_array([array], column.type)


def reject(where: str, kind: str, reason: str, record: object) -> dict:
    """One line of rejects.jsonl; `kind` is the short problem name counted in the card."""
    return {"where": where, "kind": kind, "reason": reason, "record": record}


def read_bytes(path: Path, what: str = "input file") -> bytes:
    """The bytes of an input file, or a StanceError that says which path is missing."""
    with _readable(path, what):
        return path.read_bytes()


def map_bytes(path: Path, what: str = "input file") -> np.ndarray:
    """The bytes of an input file as a read-only uint8 array over a memory map (no copy)."""
    with _readable(path, what):
        if path.stat().st_size == 0 and not path.is_dir():
            return np.zeros(0, np.uint8)
        return np.memmap(path, np.uint8, mode="r")


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


def hash_bytes(*parts: bytes | np.ndarray) -> str:
    """A fast content hash of input bytes (xxh3, 128 bit, hex)."""
    h = xxhash.xxh3_128()
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
