"""Vectorised text keys: exact-duplicate candidates and word-bigram shingles for near-duplicates.

Works on the UTF-8 bytes of an Arrow string column with numpy, chunk by chunk. Rows with non-ASCII
characters are first NFKC-normalised and lower-cased by pyarrow. A *token* is the first 8 bytes of
a word (words are split on bytes <= 0x20: whitespace and controls), case-folded by setting bit 5 of
each byte; a *shingle* hashes a pair of consecutive tokens (the first word pairs with a start
marker), and a row's *key* is the sum of its shingle hashes. Texts equal after normalisation get
equal keys, never the reverse: keys only propose candidates, which are then compared exactly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from stance.data.parallel import ranges, run_all, workers

_U = np.uint64
_ONES = _U(0x0101010101010101)
_BELOW = _U(0x2121212121212121)  # SWAR: flags bytes < 0x21 (space, tab, newline, controls)
_HIGH = _U(0x8080808080808080)
_CASE = _U(0x2020202020202020)  # OR-ing bit 5 lower-cases ASCII letters (candidates only)
_ALL = _U(0xFFFFFFFFFFFFFFFF)
SAMPLE_ROWS = 200_000  # above this many rows only 1 in 4 shingles proposes candidates
_QUARTER = _U(1 << 62)
_PIECE = 1024  # rows per numpy pass: small enough for the temporaries to stay in CPU cache


def normalize(text: str) -> str:
    """Exact-duplicate normal form: Unicode NFKC, lower case, whitespace runs to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64), in place."""
    h ^= h >> _U(30)
    h *= _U(0xBF58476D1CE4E5B9)
    h ^= h >> _U(27)
    h *= _U(0x94D049BB133111EB)
    h ^= h >> _U(31)
    return h


def pack(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Each value with its low bits replaced by its row (< n_rows): sorts by value, then row.

    Dropping those low bits can only make unequal values collide: more candidates, never fewer.
    """
    bits = _U(max(int(n_rows).bit_length(), 1))
    packed = values >> bits
    packed <<= bits
    packed |= np.asarray(rows, np.int64).view(np.uint64)  # rows are >= 0: same bits
    return packed


def unpack(packed: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The (shortened) values and the rows of `pack`ed entries."""
    bits = _U(max(int(n_rows).bit_length(), 1))
    return packed >> bits, (packed & ((_U(1) << bits) - _U(1))).view(np.int64)


@dataclass
class Shingles:
    """Per row a `key` (exact-duplicate candidate); flat: the shingles that propose near-dups."""

    key: np.ndarray  # (n,) uint64
    # the shingles that propose near-duplicate candidates (all, or 1/4), packed with their rows
    # (see `pack`) and sorted
    sample: np.ndarray
    texts: pa.ChunkedArray  # the text of the rows (those the mask kept), as given


def _windows(body: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The 8 bytes of `body` from each of the ascending positions `pos`, zeros past its end."""
    # two aligned 8-byte loads and shifts: a gather from a 1-byte-strided view copies 8x the text
    words = np.zeros(len(body) // 8 + 2, "<u8")
    words.view(np.uint8)[: len(body)] = body
    at = pos >> 3
    shift = (pos & 7).astype(np.uint64)
    shift <<= _U(3)
    out = words[at]
    out >>= shift
    high = words[at + 1]
    high <<= _U(1)  # two shifts: a shift by 64 (when shift is 0) is undefined, by 63 is not
    high <<= _U(63) - shift
    out |= high
    return out


def _chunk(arr: pa.Array, normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of one string chunk and the number of shingles per row."""
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    off = np.frombuffer(arr.buffers()[1], off_type)[arr.offset : arr.offset + len(arr) + 1]
    off = off.astype(np.int64)
    data = arr.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    body = raw[off[0] : off[-1]]
    if not normalized and len(body) and body.max() >= 0x80:  # non-ASCII bytes: rare, slower
        return _chunk(_normalized(arr), normalized=True)
    off -= off[0]
    n_bytes = int(off[-1])
    sep = body <= 32
    starts = np.empty(n_bytes, dtype=bool)
    np.greater(sep[:-1], sep[1:], out=starts[1:])
    row_first = off[:-1][off[:-1] < n_bytes]
    starts[row_first] = ~sep[row_first]  # a row's first byte starts a word unless it is blank
    pos = np.flatnonzero(starts)
    counts = np.diff(np.searchsorted(pos, off))
    window = _windows(body, pos)
    # token: the word's first 8 bytes, cut at the first separator byte (SWAR, lowest byte first)
    keep = window - _BELOW
    keep &= ~window
    keep &= _HIGH
    keep &= -keep
    keep >>= _U(7)
    keep -= _U(1)
    # a row's last word could run into the next row's bytes: cut it at the row end too
    last = (np.cumsum(counts) - 1)[counts > 0]
    left = np.minimum(off[1:][counts > 0] - pos[last], 8).astype(np.uint64) * _U(8)
    keep[last] &= np.where(left >= 64, _ALL, (_U(1) << (left % _U(64))) - _U(1))
    window |= _CASE
    window &= keep
    window *= _U(0x9E3779B97F4A7C15)
    previous = np.empty_like(window)
    previous[1:] = window[:-1]
    previous[(np.cumsum(counts) - counts)[counts > 0]] = _U(0x5EED)
    previous *= _U(0xD6E8FEB86659FD93)
    window += previous
    return _mix(window), counts


def _normalized(texts: pa.Array) -> pa.Array:
    """Rows with non-ASCII characters NFKC-normalised and lower-cased; ASCII rows as they are."""
    ascii_ = pc.string_is_ascii(texts)
    if pc.all(ascii_).as_py() is not False:
        return texts
    other = pc.invert(ascii_)
    fixed = pc.utf8_lower(pc.utf8_normalize(texts.filter(other), form="NFKC"))
    return pc.replace_with_mask(texts, other, fixed)


def _pieces(
    texts: pa.ChunkedArray, bar: tqdm | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(shingle hashes, shingles per row) for slices of `_PIECE` rows; `bar` counts rows."""
    for arr in texts.chunks:
        for s in range(0, len(arr), _PIECE):
            h, c = _chunk(arr.slice(s, _PIECE))
            yield h, c
            if bar is not None:
                bar.update(len(c))


def _keys_and_sample(
    texts: pa.ChunkedArray, base: int, n: int, sample: bool, bar: tqdm
) -> tuple[list[np.ndarray], np.ndarray]:
    """Per piece of `texts` (rows numbered from `base` on, of `n`): keys; and the sorted sample."""
    keys, hashes, rows = [], [], []
    for h, c in _pieces(texts, bar):
        key = np.zeros(len(c), np.uint64)
        if len(h):
            key[c > 0] = np.add.reduceat(h, (np.cumsum(c) - c)[c > 0])
        keys.append(key)
        chosen = h < _QUARTER if sample else slice(None)
        hashes.append(h[chosen])
        rows.append(np.repeat(np.arange(base, base + len(c)), c)[chosen])
        base += len(c)
    empty = [np.zeros(0, np.uint64)]
    packed = pack(np.concatenate(empty + hashes), np.concatenate(empty + rows), n)
    packed.sort()  # here, on this thread; the caller merges the sorted runs
    return keys, packed


def _kept_part(
    texts: pa.ChunkedArray, mask: np.ndarray | None, base: int, n: int, sample: bool, bar: tqdm
) -> tuple[pa.ChunkedArray, tuple[list[np.ndarray], np.ndarray]]:
    """The rows of `texts` that `mask` keeps, and their `_keys_and_sample`."""
    kept = texts if mask is None else texts.filter(pa.array(mask))
    return kept, _keys_and_sample(kept, base, n, sample, bar)


def shingles(texts: pa.ChunkedArray, mask: np.ndarray | None = None) -> Shingles:
    """Keys and (sampled) shingles of every row of `texts` that `mask` keeps (default: all).

    Rows are numbered among the kept rows; `Shingles.texts` holds their text.
    """
    n = len(texts) if mask is None else int(np.count_nonzero(mask))
    sample = n > SAMPLE_ROWS
    bar = tqdm(total=n, desc="shingles", unit="rows", disable=n < 100_000)
    # numpy and pyarrow release the GIL: one range of rows per core, filtered there too
    spans = ranges(len(texts), workers(), _PIECE)
    bases = [lo if mask is None else int(np.count_nonzero(mask[:lo])) for lo, _ in spans]
    parts = run_all(
        *(
            partial(
                _kept_part,
                texts.slice(lo, hi - lo),
                None if mask is None else mask[lo:hi],
                base,
                n,
                sample,
                bar,
            )
            for (lo, hi), base in zip(spans, bases, strict=True)
        )
    )
    bar.close()
    kept = pa.chunked_array([c for part, _ in parts for c in part.chunks], texts.type)
    keys = [np.zeros(0, np.uint64)] + [k for _, (found, _) in parts for k in found]
    sample = np.concatenate([packed for _, (_, packed) in parts])
    sample.sort(kind="stable")  # timsort: a merge of the sorted runs
    return Shingles(np.concatenate(keys), sample, kept)


def row_shingles(texts: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Every row's distinct shingle hashes, sorted, one row after the other; and their counts."""
    found = list(_pieces(pa.chunked_array([texts.combine_chunks()], texts.type)))
    h = np.concatenate([np.zeros(0, np.uint64), *(f[0] for f in found)])
    c = np.concatenate([np.zeros(0, np.int64), *(f[1] for f in found)])
    row = np.repeat(np.arange(len(c)), c)
    order = np.lexsort((h, row))
    h, row = h[order], row[order]
    fresh = np.r_[True, (h[1:] != h[:-1]) | (row[1:] != row[:-1])] if len(h) else np.zeros(0, bool)
    return h[fresh], np.bincount(row[fresh], minlength=len(c))
