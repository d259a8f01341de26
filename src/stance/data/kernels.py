"""Compiled (numba) loops over the UTF-8 bytes of Arrow string columns and of CSV files.

One pass each where numpy needs dozens: word-bigram shingles, blank rows, per-row hashes, the CSV
quote check, gathering rows (the near-duplicate candidate loops are in `near_kernels`). They take
plain numpy arrays (an Arrow column's offsets and data buffer, see `buffers`), release the GIL
(`nogil`), and are compiled once per machine (`cache=True` keeps the machine code under
__pycache__; the first build after installing compiles them, 10-20 s).

Integers are cast to uint64 explicitly: numba turns mixed uint64/int64 arithmetic into floats.
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise

import numpy as np
import pyarrow as pa
from numba import njit

from stance.data import near_kernels
from stance.data.parallel import run_all, workers

_U = np.uint64
_GOLD = _U(0x9E3779B97F4A7C15)  # token -> spread bits
_PREVIOUS = _U(0xD6E8FEB86659FD93)  # weight of the previous token in a bigram
_SEED = _U(0x5EED)  # the "previous token" of a row's first word
QUARTER = _U(1 << 62)  # a shingle hash below this is in the 1-in-4 sample
_BELOW = _U(0x2121212121212121)  # SWAR: flags bytes < 0x21 (space, tab, newline, controls)
_HIGH = _U(0x8080808080808080)
_CASE = _U(0x2020202020202020)  # OR-ing bit 5 lower-cases ASCII letters (candidates only)
_FNV_OFFSET = _U(0xCBF29CE484222325)
_FNV_PRIME = _U(0x100000001B3)
_JIT = {"cache": True, "nogil": True}


def buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a string array as numpy views: row i is data[offsets[i]:offsets[i+1]]."""
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], off_type)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return offsets, np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)


@njit(inline="always", **_JIT)
def _mix(h):
    """splitmix64's finaliser."""
    h ^= h >> _U(30)
    h *= _U(0xBF58476D1CE4E5B9)
    h ^= h >> _U(27)
    h *= _U(0x94D049BB133111EB)
    h ^= h >> _U(31)
    return h


@njit(**_JIT)
def shingle_rows(data, offsets, rows, numbers, bits, sample, check_ascii):
    """Word-bigram shingle hashes of the given rows of a string column.

    A word is a run of bytes > 0x20; its *token* is its first 8 bytes with bit 5 set (ASCII lower
    case), read little-endian; a shingle hashes a token with the one before it (a row's first word
    pairs with a seed). Per row (of `rows`, indices into `offsets`): `key`, the wrapping sum of its
    shingle hashes (equal texts, equal keys) and how many values it emitted. `values`: each shingle
    hash, or only those below QUARTER if `sample`; with `bits` > 0 packed with the row's entry of
    `numbers` in the low `bits` bits (so that sorting orders by hash, then row). With `check_ascii`,
    a row with a byte >= 0x80 emits nothing and is flagged in `non_ascii` (normalise it, run again).
    """
    n = len(rows)
    key = np.zeros(n, np.uint64)
    count = np.zeros(n, np.int64)
    non_ascii = np.zeros(n, np.bool_)
    total = 0
    longest = 0
    for k in range(n):
        size = offsets[rows[k] + 1] - offsets[rows[k]]
        total += size
        longest = max(longest, size)
    starts = np.empty(longest + 1, np.uint64)
    words_of_data = data[: len(data) // 8 * 8].view(np.uint64)
    values = np.empty(max(total // (16 if sample else 4), 1024), np.uint64)
    m = _U(0)
    one = _U(1)
    for k in range(n):
        # unsigned indices: numba checks signed ones for negative values, which stops SIMD
        start, end = _U(offsets[rows[k]]), _U(offsets[rows[k] + 1])
        # word starts, without a branch per byte: always write, advance only at a start
        words = _U(0)
        after_space = one
        high = np.uint8(0)
        for i in range(start, end):
            high |= data[i]
            space = _U(data[i] <= 0x20)
            starts[words] = i
            words += after_space & (one - space)
            after_space = space
        if check_ascii and high >= 0x80:
            non_ascii[k] = True
            continue
        if m + words > _U(len(values)):
            grown = np.empty(_U(2 * len(values)) + words, np.uint64)
            grown[:m] = values[:m]
            values = grown
        number = _U(numbers[k])
        previous = _SEED
        h_sum = _U(0)
        first = m
        for w in range(words):
            # the 8 bytes from the word's start, as a little-endian uint64 (written out here: as
            # an inlined function the loop ran 1.3x slower)
            at = starts[w]
            q = at >> _U(3)
            if q + one < _U(len(words_of_data)):
                shift = (at & _U(7)) << _U(3)
                # two aligned loads; two shifts, since a shift by 64 (when shift is 0) is undefined
                window = (words_of_data[q] >> shift) | (
                    (words_of_data[q + one] << one) << (_U(63) - shift)
                )
            else:  # the last 8-15 bytes of the column
                window = _U(0)
                for j in range(min(_U(8), _U(len(data)) - at)):
                    window |= _U(data[at + j]) << _U(8 * j)
            # zero the bytes from `end` on, without a branch; again two shifts
            kept = min(end - at, _U(8)) << _U(3)
            window &= ((one << (kept >> one)) << (kept - (kept >> one))) - one
            # the word's bytes: those below the first byte <= 0x20 (SWAR, lowest byte first)
            flags = (window - _BELOW) & ~window & _HIGH
            flags &= ~flags + one
            keep = (flags >> _U(7)) - one
            token = ((window | _CASE) & keep) * _GOLD
            h = _mix(token + previous * _PREVIOUS)
            previous = token
            h_sum += h
            values[m] = ((h >> _U(bits)) << _U(bits)) | number if bits else h
            m += one if not sample or h < QUARTER else _U(0)
        key[k] = h_sum
        count[k] = m - first
    return key, count, non_ascii, values[:m]


@njit(inline="always", **_JIT)
def _range_of(value, cuts):
    r = 0
    while r < len(cuts) and value >= cuts[r]:
        r += 1
    return r


@njit(**_JIT)
def split_ranges(values, cuts):
    """`values` grouped by range (below cuts[0], then up to cuts[1], ...), in order within each.

    Returns the grouped values and where each range starts in them (len(cuts) + 2 entries).
    """
    starts = np.zeros(len(cuts) + 2, np.int64)
    for i in range(len(values)):
        starts[_range_of(values[i], cuts) + 1] += 1
    starts = np.cumsum(starts)
    at = starts[:-1].copy()
    out = np.empty_like(values)
    for i in range(len(values)):  # each value's range again: cheaper than storing them all
        r = _range_of(values[i], cuts)
        out[at[r]] = values[i]
        at[r] += 1
    return out, starts


@njit(**_JIT)
def distinct_per_row(values, count):
    """Sort each row's run of `values` (rows one after the other, `count` each) and drop repeats."""
    out = np.empty_like(values)
    kept = np.zeros(len(count), np.int64)
    start = 0
    m = 0
    for r in range(len(count)):
        run = np.sort(values[start : start + count[r]])
        for j in range(len(run)):
            if j == 0 or run[j] != run[j - 1]:
                out[m] = run[j]
                m += 1
                kept[r] += 1
        start += count[r]
    return out[:m], kept


@njit(**_JIT)
def copy_rows(data, offsets, rows, out_data, out_offsets, first):
    """Copy the given rows of a string column to out_data at out_offsets[first], ... (one copy)."""
    for k in range(len(rows)):
        # a byte loop on unsigned indices (compiled to vector copies): a slice assignment per
        # row was 3x slower
        start, end = _U(offsets[rows[k]]), _U(offsets[rows[k] + 1])
        at = _U(out_offsets[first + k])
        for i in range(end - start):
            out_data[at + i] = data[start + i]


@njit(**_JIT)
def blank_rows(data, offsets):
    """Per row: 0 has a visible ASCII character first, 1 only bytes <= 0x20 (or none), 2 unsure.

    2: the first byte above 0x20 is not ASCII (it may be Unicode white space): check in Python.
    """
    n = len(offsets) - 1
    out = np.ones(n, np.int8)
    for r in range(n):
        for i in range(offsets[r], offsets[r + 1]):
            if data[i] > 0x20:
                out[r] = 0 if data[i] < 0x80 else 2
                break
    return out


@njit(**_JIT)
def hash_rows(data, offsets):
    """A 64-bit hash (FNV-1a, then mixed) of each row's bytes: equal rows, equal hashes."""
    n = len(offsets) - 1
    out = np.empty(n, np.uint64)
    for r in range(n):
        h = _FNV_OFFSET
        for i in range(offsets[r], offsets[r + 1]):
            h ^= _U(data[i])
            h *= _FNV_PRIME
        out[r] = _mix(h ^ _U(offsets[r + 1] - offsets[r]))
    return out


@njit(**_JIT)
def csv_scan_range(data, delimiter, start, end, inside):
    """Count line feeds in data[start:end] and find its first quote a strict CSV reader rejects.

    `inside`: whether a quoted field is open at `start`. Returns (line feeds, byte offset of the
    first bad quote or -1, whether a quoted field is still open at `end`). Bad: a quote that
    closes a field but is followed by something other than the delimiter, a line end or another
    quote (`"abc"x`, which lenient parsers read as `abcx`). A quote outside a quoted field opens
    one only at a field's start; elsewhere it is a literal character.
    """
    n = _U(len(data))
    lines = _U(0)
    for i in range(_U(start), _U(end)):  # unsigned: vectorised
        lines += _U(data[i] == 0x0A)
    bad = -1
    i = _U(start)
    while i < _U(end):
        if data[i] == 0x22:
            if inside:
                if i + _U(1) < n and data[i + _U(1)] == 0x22:  # "" inside a quoted field
                    i += _U(2)
                    continue
                inside = False
                if i + _U(1) < n:
                    after = data[i + _U(1)]
                    if after != delimiter and after != 0x0A and after != 0x0D:
                        bad = np.int64(i)
                        break
            elif i == _U(0) or data[i - _U(1)] == delimiter or data[i - _U(1)] == 0x0A:
                inside = True
        i += _U(1)
    return np.int64(lines), bad, inside


@njit(**_JIT)
def _line_start(data, at):
    """Where the line after the first line feed at or after `at` starts (len(data) if none)."""
    for i in range(_U(at), _U(len(data))):
        if data[i] == 0x0A:
            return np.int64(i) + 1
    return np.int64(len(data))


def csv_scan(data: np.ndarray, delimiter: int, pieces: int | None = None) -> tuple[int, int]:
    """(line feeds, byte offset of the first bad quote or -1) of a whole CSV file's bytes.

    See `csv_scan_range`; a quote still open at the end of the file is bad too (offset: the
    file's length). The file is cut at line starts into `pieces` (default: one per core), scanned
    at the same time as if no quoted field were open at a cut; a piece whose start turns out to
    be inside a quoted field (one with a line break across the cut) is scanned again.
    """
    n = len(data)
    pieces = pieces or workers()
    cuts = sorted({0, n, *(int(_line_start(data, n * k // pieces)) for k in range(1, pieces))})
    delimiter = np.uint8(delimiter)
    ranges = list(pairwise(cuts))
    found = run_all(*(partial(csv_scan_range, data, delimiter, a, b, False) for a, b in ranges))
    lines = sum(int(count) for count, _, _ in found)  # line feeds do not depend on quotes
    inside = False
    for (a, b), (_, bad, open_at_end) in zip(ranges, found, strict=True):
        if inside:  # the guess for this piece was wrong: scan it again from the right state
            _, bad, open_at_end = csv_scan_range(data, delimiter, a, b, True)
        if bad >= 0:
            return lines, int(bad)
        inside = open_at_end
    return lines, n if inside else -1


def warm_up() -> None:
    """Load the kernels' cached machine code now (compiling it the first time: 10-20 s, once).

    numba does this on a kernel's first call anyway; the first load in a process also starts
    numba itself (~0.3 s). `benchmarks/bench_build.py` calls this to time that apart.
    """
    for arr in (pa.array(["a b"]), pa.array(["a b"], pa.large_string())):
        offsets, data = buffers(arr)  # the array types a build passes
        rows = np.arange(1)
        _, count, _, values = shingle_rows(data, offsets, rows, rows, 1, True, True)
        distinct_per_row(values, count)
        split_ranges(values, np.zeros(1, np.uint64))
        blank_rows(data, offsets)
        hash_rows(data, offsets)
        found = near_kernels.shared_pairs(values, 1, np.ones(1, bool), 50)
        near_kernels.likely_pairs(found, found, 1, np.ones(1, np.int64), 0.5)
        near_kernels.common_counts(values, np.zeros(1, np.int64), count, rows, rows)
        copy_rows(data, offsets, rows, np.empty(3, np.uint8), np.zeros(2, np.int32), 0)
    for raw in (data, np.memmap(__file__, np.uint8, mode="r")):  # the second: as `map_bytes`
        for inside in (False, True):
            csv_scan_range(raw, np.uint8(ord(",")), 0, 0, inside)
        _line_start(raw, 0)
