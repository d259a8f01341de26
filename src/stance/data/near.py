"""Near-duplicates: pairs of rows whose word-bigram sets have a Jaccard of at least a threshold.

Words are runs of letters and digits of the normalised text (stance.data.dedup.normalized).
Candidates come from MinHash LSH (rensa): `lsh_bands` bands of `lsh_rows` hashes; a pair at
Jaccard 0.7 shares a band with probability 0.99 with the defaults (24 x 5), at 0.8 with 0.99998.
A first pass over every row (in rensa) flags the rows that share a band with another row; only
those get a signature in numpy. Within a band's bucket (rows with equal band hashes, in row
order) each row is paired with the next `window` rows, so a bucket of thousands of near-copies
(a chain of edits, a boilerplate paragraph) costs a few pairs per row, not one per member: the
work stays linear in the rows. A row keeps at most `max_bucket` candidates (the nearest rows
after it), and every candidate's exact Jaccard decides, computed for all pairs at once as sparse
row products.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rensa import RMinHash, RMinHashLSH
from scipy.sparse import csr_matrix

from stance.data.schema import DedupConfig

SEED = 0  # of the MinHash permutations: the same input gives the same candidates
PUNCTUATION = r"[[:punct:]“”‘’«»—–…]+"  # between words (ASCII classes: 7x faster than \p{P})
CHUNK = 200_000  # candidate pairs whose Jaccard is computed at once (~40 bigrams a row each)
SIGNATURE_CHUNK = 20_000  # rows whose MinHash values are copied out of rensa at once


def word_bigrams(norm: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row its word bigrams as uint64 (two word ids), flat, and each row's start (n + 1).

    Words: the normalised text split at spaces and punctuation.
    """
    spaced = pc.utf8_trim_whitespace(pc.replace_substring_regex(norm, PUNCTUATION, " "))
    words = pc.ascii_split_whitespace(spaced)
    offsets = words.offsets.to_numpy().astype(np.int64)
    offsets -= offsets[0]
    ids = pc.dictionary_encode(words.flatten()).indices.to_numpy().astype(np.uint64)
    last = np.zeros(len(ids) + 1, bool)
    last[offsets[1:] - 1] = True  # a bigram never spans two rows (a row of no word: no effect)
    start = np.flatnonzero(~last[:-2]) if len(ids) > 1 else np.zeros(0, np.int64)
    size = np.maximum(np.diff(offsets) - 1, 0)
    bounds = np.concatenate([[0], np.cumsum(size)])
    return (ids[start] << np.uint64(32)) | ids[start + 1], bounds


def near_pairs(
    norm: pa.Array, keep: np.ndarray, cfg: DedupConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of kept rows (a < b) whose word-bigram Jaccard is at least `cfg.threshold`."""
    grams, bounds = word_bigrams(norm)
    size = np.diff(bounds)
    rows = np.flatnonzero(keep & (size > 0))
    empty = np.zeros(0, np.int64)
    if len(rows) < 2:
        return empty, empty, np.zeros(0)
    num_perm = cfg.lsh_bands * cfg.lsh_rows
    matrix = _signatures(grams, bounds, rows, num_perm)
    flags = RMinHashLSH(cfg.threshold, num_perm, cfg.lsh_bands)
    flagged = rows[np.asarray(flags.query_duplicate_flags_matrix_one_shot(matrix), bool)]
    if len(flagged) < 2:
        return empty, empty, np.zeros(0)
    signature = np.empty((len(flagged), num_perm), np.uint32)
    for k in range(0, len(flagged), SIGNATURE_CHUNK):  # rensa hands rows over as Python lists
        part = flagged[k : k + SIGNATURE_CHUNK]
        signature[k : k + len(part)] = _signatures(grams, bounds, part, num_perm).to_rows()
    window = -(-cfg.max_bucket // cfg.lsh_bands)  # pairs per row and band (ceil), >= 1
    a, b = _candidates(signature, cfg.lsh_bands, cfg.lsh_rows, window, cfg.max_bucket)
    a, b = flagged[a], flagged[b]
    jac = jaccards(grams, bounds, a, b)
    close = jac >= cfg.threshold
    return a[close], b[close], jac[close]


def _signatures(grams: np.ndarray, bounds: np.ndarray, rows: np.ndarray, num_perm: int):
    """rensa's MinHash digest matrix of `rows` (ascending), from their bigrams."""
    size = np.diff(bounds)[rows]
    picked = np.zeros(len(bounds) - 1, bool)
    picked[rows] = True
    mine = grams[np.repeat(picked, np.diff(bounds))]  # the rows' bigrams, in row order
    starts = np.concatenate([[0], np.cumsum(size)]).astype(np.uint64)
    return RMinHash.digest_matrix_from_flat_token_hashes(mine, starts, num_perm, SEED)


def _candidates(
    signature: np.ndarray, bands: int, band_rows: int, window: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b, positions in `signature`) that share a band: each row with the next
    `window` rows of its bucket in every band, at most `cap` (the nearest) per row."""
    n = len(signature)
    # odd 64-bit multipliers fold a band's hashes into one key (a collision only adds a
    # candidate, which its exact Jaccard then rejects)
    fold = np.random.default_rng(SEED).integers(1, 2**63, band_rows, dtype=np.uint64) | 1
    parts = []
    for band in range(bands):
        hashes = signature[:, band * band_rows : (band + 1) * band_rows].astype(np.uint64)
        key = (hashes * fold).sum(1)
        order = np.argsort(key, kind="stable")  # a bucket's rows stay in row order
        ordered = key[order]
        for step in range(1, min(window, n - 1) + 1):
            same = np.flatnonzero(ordered[step:] == ordered[:-step])
            parts.append(order[same] * n + order[same + step])
    pair = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    a, b = pair // n, pair % n
    first = np.r_[True, a[1:] != a[:-1]] if len(a) else np.zeros(0, bool)
    rank = np.arange(len(a)) - np.maximum.accumulate(np.where(first, np.arange(len(a)), 0))
    return a[rank < cap], b[rank < cap]


def jaccards(grams: np.ndarray, bounds: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact Jaccard of the bigram sets of rows a[k] and b[k], for every k."""
    if not len(a):
        return np.zeros(0)
    involved = np.zeros(len(bounds) - 1, bool)
    involved[a] = involved[b] = True
    rows = np.flatnonzero(involved)
    size = np.diff(bounds)
    indptr = np.concatenate([[0], np.cumsum(size[rows])])
    columns = grams[np.repeat(involved, size)].astype(np.int64)  # a bigram is its own column
    sets = csr_matrix(
        (np.ones(len(columns), np.float32), columns, indptr), shape=(len(rows), 2**62)
    )
    sets.sum_duplicates()  # sorted, each bigram once
    sets.data[:] = 1
    count = np.diff(sets.indptr)
    ia, ib = np.searchsorted(rows, a), np.searchsorted(rows, b)
    common = np.empty(len(a))
    for k in range(0, len(a), CHUNK):
        both = sets[ia[k : k + CHUNK]].multiply(sets[ib[k : k + CHUNK]])
        common[k : k + CHUNK] = np.asarray(both.sum(1)).ravel()
    return common / (count[ia] + count[ib] - common)
