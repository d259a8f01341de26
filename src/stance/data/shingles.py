"""Text keys: exact-duplicate candidates and word-bigram shingles for near-duplicates.

The loops are compiled (`stance.data.kernels.shingle_rows`) and run on the UTF-8 bytes of the
Arrow string column, one range of rows per core. Rows with non-ASCII characters are first
NFKC-normalised and lower-cased by pyarrow. A *token* is the first 8 bytes of a word (words are
split on bytes <= 0x20: whitespace and controls), case-folded by setting bit 5 of each byte; a
*shingle* hashes a pair of consecutive tokens (the first word pairs with a start marker), and a
row's *key* is the sum of its shingle hashes. Texts equal after normalisation get equal keys,
never the reverse: keys only propose candidates, which are then compared exactly.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from stance.data.kernels import QUARTER, buffers, distinct_per_row, shingle_rows, split_ranges
from stance.data.loaded import gather_strings
from stance.data.parallel import run_all, workers

_U = np.uint64
SAMPLE_ROWS = 200_000  # above this many rows only 1 in 4 shingles proposes candidates
_PIECE = 1 << 16  # rows per kernel call at most


def normalize(text: str) -> str:
    """Exact-duplicate normal form: Unicode NFKC, lower case, whitespace runs to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def row_bits(n_rows: int) -> int:
    """Low bits that hold a row number (< n_rows) in packed values."""
    return max(int(n_rows).bit_length(), 1)


def pack(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Each value with its low bits replaced by its row (< n_rows): sorts by value, then row.

    Dropping those low bits can only make unequal values collide: more candidates, never fewer.
    """
    bits = _U(row_bits(n_rows))
    packed = values >> bits
    packed <<= bits
    packed |= np.asarray(rows, np.int64).view(np.uint64)  # rows are >= 0: same bits
    return packed


def unpack(packed: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The (shortened) values and the rows of `pack`ed entries."""
    bits = _U(row_bits(n_rows))
    return packed >> bits, (packed & ((_U(1) << bits) - _U(1))).view(np.int64)


@dataclass
class Shingles:
    """Per row a `key` (exact-duplicate candidate); flat: the shingles that propose near-dups."""

    key: np.ndarray  # (n,) uint64
    sampled: np.ndarray  # (n,) how many of each row's shingles are in `sample`
    # the shingles that propose near-duplicate candidates (all, or 1/4), packed with their rows
    # (see `pack`) and sorted
    sample: np.ndarray
    source: pa.ChunkedArray  # the text column as given (every row, also those the mask left out)
    rows: np.ndarray | None  # where the numbered rows are in `source` (None: all, in order)

    def text(self, numbers: np.ndarray) -> pa.ChunkedArray:
        """The text of the given numbered rows (ascending), as given, in one chunk."""
        return gather_strings(self.source, numbers if self.rows is None else self.rows[numbers])


def _normalized(texts: pa.Array) -> pa.Array:
    """The rows NFKC-normalised and lower-cased (what the kernel does to ASCII by itself)."""
    return pc.utf8_lower(pc.utf8_normalize(texts, form="NFKC"))


def _run(
    arr: pa.Array, rows: np.ndarray, numbers: np.ndarray, bits: int, sample: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`shingle_rows` of `rows` of one chunk, the non-ASCII ones normalised first (rare)."""
    offsets, data = buffers(arr)
    key, count, odd, values = shingle_rows(data, offsets, rows, numbers, bits, sample, True)
    if odd.any():
        fixed = _normalized(arr.take(pa.array(rows[odd])))
        offsets, data = buffers(fixed)
        every = np.arange(len(fixed))
        k2, c2, _, v2 = shingle_rows(data, offsets, every, numbers[odd], bits, sample, False)
        key[odd], count[odd] = k2, c2
        values = np.concatenate([values, v2])  # out of row order: the caller sorts them
    return key, count, values


def _part(
    chunks: list[pa.Array],
    masks: list[np.ndarray | None],
    base: int,
    bits: int,
    sample: bool,
    cuts: np.ndarray,
    bar: tqdm,
) -> tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]:
    """Keys, sampled counts and (sampled, packed, unsorted) shingles of the chunks' kept rows.

    The shingles come as pieces per range of values (see `split_ranges`), grouped while the
    kernel's output is still in the cache.
    """
    keys, counts = [np.zeros(0, _U)], [np.zeros(0, np.int64)]
    pieces: list[list[np.ndarray]] = [[] for _ in range(len(cuts) + 1)]
    for arr, mask in zip(chunks, masks, strict=True):
        rows = np.arange(len(arr)) if mask is None else np.flatnonzero(mask)
        key, count, found = _run(arr, rows, np.arange(base, base + len(rows)), bits, sample)
        keys.append(key)
        counts.append(count)
        grouped, starts = split_ranges(found, cuts)
        for r, (lo, hi) in enumerate(pairwise(starts)):
            pieces[r].append(grouped[lo:hi])
        base += len(rows)
        bar.update(len(rows))
    return np.concatenate(keys), np.concatenate(counts), pieces


def _sort_into(out: np.ndarray, pieces: list[np.ndarray]) -> None:
    """Copy the pieces one after the other into `out` (as long as all of them) and sort it."""
    np.concatenate([np.zeros(0, _U), *pieces], out=out)
    out.sort()


def shingles(texts: pa.ChunkedArray, mask: np.ndarray | None = None) -> Shingles:
    """Keys and (sampled) shingles of every row of `texts` that `mask` keeps (default: all).

    Rows are numbered among the kept rows; `Shingles.text` gives their text (never copied here).
    """
    n = len(texts) if mask is None else int(np.count_nonzero(mask))
    sample = n > SAMPLE_ROWS
    bits = row_bits(n)
    # pieces of at most _PIECE rows (zero-copy slices), so that one huge chunk is shared too
    chunks = [c.slice(s, _PIECE) for c in texts.chunks for s in range(0, len(c), _PIECE)]
    starts = np.cumsum([0] + [len(c) for c in chunks])
    masks = [None if mask is None else mask[a:b] for a, b in pairwise(starts)]
    kept_per_chunk = [
        len(c) if m is None else int(np.count_nonzero(m))
        for c, m in zip(chunks, masks, strict=True)
    ]
    # runs of consecutive chunks with equal text bytes (the work), a few per core: a core that
    # another process slows down takes fewer
    runs = 4 * workers() if workers() > 1 else 1
    size = np.cumsum([c.nbytes for c in chunks])
    cuts = np.searchsorted(size, size[-1] * np.arange(1, runs) / runs) if chunks else []
    bounds = sorted({0, *(int(c) + 1 for c in cuts), len(chunks)})
    bases = np.cumsum([0, *kept_per_chunk])
    # one range of values per core, for the sort: the sorted ranges simply follow each other
    # (hashes are uniform; sampled ones lie below QUARTER)
    top = int(QUARTER) if sample else 1 << 64
    value_cuts = np.array([top * k // workers() for k in range(1, workers())], _U)
    with tqdm(total=n, desc="shingles", unit="rows", disable=n < 100_000) as bar:
        parts = run_all(
            *(
                partial(
                    _part, chunks[a:b], masks[a:b], int(bases[a]), bits, sample, value_cuts, bar
                )
                for a, b in pairwise(bounds)
            )
        )
    keys = np.concatenate([np.zeros(0, _U)] + [k for k, _, _ in parts])
    sampled = np.concatenate([np.zeros(0, np.int64)] + [c for _, c, _ in parts])
    # each range sorted in its place in the result: no copy of the sample to join them
    per_range = [[p for *_, pieces in parts for p in pieces[r]] for r in range(len(value_cuts) + 1)]
    edges = np.cumsum([0] + [sum(len(p) for p in ps) for ps in per_range])
    packed = np.empty(int(edges[-1]), _U)
    run_all(
        *(
            partial(_sort_into, packed[a:b], ps)
            for ps, (a, b) in zip(per_range, pairwise(edges), strict=True)
        )
    )
    return Shingles(keys, sampled, packed, texts, None if mask is None else np.flatnonzero(mask))


def row_shingles(texts: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Every row's distinct shingle hashes, sorted, one row after the other; and their counts."""
    arr = texts.combine_chunks()
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = _normalized(arr)  # the same bytes for ASCII rows: the kernel folds case itself
    offsets, data = buffers(arr)
    every = np.arange(len(arr))
    _, count, _, values = shingle_rows(data, offsets, every, every, 0, False, False)
    return distinct_per_row(values, count)
