"""Compiled (numba) loops that turn sorted sampled shingles into near-duplicate candidates.

See `stance.data.kernels` for the conventions (plain numpy arrays in, no GIL, cached machine code).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_U = np.uint64
_JIT = {"cache": True, "nogil": True}


@njit(**_JIT)
def common_counts(values, start, size, a, b):
    """Per pair k: how many values rows a[k] and b[k] share (each row's run sorted and distinct)."""
    out = np.zeros(len(a), np.int64)
    for k in range(len(a)):
        x, x_end = start[a[k]], start[a[k]] + size[a[k]]
        y, y_end = start[b[k]], start[b[k]] + size[b[k]]
        while x < x_end and y < y_end:  # merge the two sorted runs
            if values[x] < values[y]:
                x += 1
            elif values[x] > values[y]:
                y += 1
            else:
                out[k] += 1
                x += 1
                y += 1
    return out


@njit(**_JIT)
def shared_pairs(packed, bits, keep, max_bucket):
    """Pairs of kept rows that share a sampled shingle.

    `packed`: sorted `shingle_rows` values (hash, then row in the low `bits` bits). A shingle shared
    by more than `max_bucket` kept rows is too common to link rows and proposes no pair. Pairs come
    as a * len(keep) + b (a < b), once per shingle they share.
    """
    n = len(keep)
    shift = _U(bits)
    low = (_U(1) << shift) - _U(1)
    rows = np.empty(max_bucket + 1, np.int64)
    pairs = np.empty(max(len(packed) // 2, 1024), np.int64)
    m = 0
    size = 0
    last = -1
    previous = packed[0] >> shift if len(packed) else _U(0)
    for j in range(len(packed) + 1):
        value = packed[j] >> shift if j < len(packed) else ~previous
        if value != previous:  # a run of one shingle ended: link its kept rows
            if 2 <= size <= max_bucket:
                if m + size * size > len(pairs):
                    grown = np.empty(2 * len(pairs) + size * size, np.int64)
                    grown[:m] = pairs[:m]
                    pairs = grown
                for a in range(size):
                    for b in range(a + 1, size):
                        pairs[m] = rows[a] * n + rows[b]
                        m += 1
            size = 0
            last = -1
            previous = value
        if j == len(packed):
            break
        row = np.int64(packed[j] & low)
        if keep[row] and row != last:  # rows ascend within a run: a repeat follows its row
            if size <= max_bucket:
                rows[size] = row
            size += 1
            last = row
    return pairs[:m]


@njit(**_JIT)
def likely_pairs(first, second, n, sampled, min_estimate):
    """Distinct pairs of two sorted `shared_pairs` outputs whose estimated Jaccard is high enough.

    Estimate: shared sampled shingles / (sampled of a + sampled of b - shared). Returns (a, b).
    Most pairs share one shingle by chance; a's count alone rules them out (a ascends: its counts
    are read in order), so the random read of b's count is skipped for them.
    """
    # estimate >= e  <=>  sampled[a] + sampled[b] <= common * (1 + 1/e); the bound is loosened
    # (counts are integers) so that rounding cannot rule out a pair the exact test would keep
    per_common = 1.0 + 1.0 / min_estimate
    a_out = np.empty(1024, np.int64)
    b_out = np.empty(1024, np.int64)
    m = 0
    i = 0
    j = 0
    while i < len(first) or j < len(second):
        take_first = j == len(second) or (i < len(first) and first[i] <= second[j])
        value = first[i] if take_first else second[j]
        common = 0
        while i < len(first) and first[i] == value:
            common += 1
            i += 1
        while j < len(second) and second[j] == value:
            common += 1
            j += 1
        a = value // n
        if sampled[a] + common > common * per_common + 1e-6:  # sampled[b] >= common
            continue
        b = value % n
        if common / (sampled[a] + sampled[b] - common) >= min_estimate:
            if m == len(a_out):
                a_out = np.concatenate((a_out, np.empty(m, np.int64)))
                b_out = np.concatenate((b_out, np.empty(m, np.int64)))
            a_out[m] = a
            b_out[m] = b
            m += 1
    return a_out[:m], b_out[:m]
