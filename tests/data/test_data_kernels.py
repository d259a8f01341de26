"""The compiled loops against plain-Python statements of what they compute."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import corpus, user_dataset, write
from omegaconf import OmegaConf

from stance.data import kernels, near_kernels, validate
from stance.data.kernels import buffers, csv_scan, shingle_rows
from stance.data.loaded import gather_strings

M64 = (1 << 64) - 1


def _mix(h: int) -> int:
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & M64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & M64
    return h ^ (h >> 31)


def reference_shingles(text: str) -> list[int]:
    """The module doc's definition, one word at a time."""
    words = [w for w in "".join(" " if ord(c) <= 0x20 else c for c in text).split(" ") if w]
    previous, out = 0x5EED, []
    for word in words:
        token = int.from_bytes(bytes(b | 0x20 for b in word.encode()[:8]), "little")
        token = (token * 0x9E3779B97F4A7C15) & M64
        out.append(_mix((token + previous * 0xD6E8FEB86659FD93) & M64))
        previous = token
    return out


def _texts(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["a", "Bc", "policy", "LONGWORDSTRETCHED", " ", "  ", "\t", "\n", "\x01", ".", ","]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(n)] + [
        "",
        " ",
        "x",
        "exactly8 exactly8",
    ]


def test_shingle_rows_match_the_definition_row_by_row():
    texts = _texts(0, 400)
    offsets, data = buffers(pa.array(texts))
    rows = np.arange(len(texts))
    key, count, odd, values = shingle_rows(data, offsets, rows, rows, 0, False, True)
    expected = [reference_shingles(t) for t in texts]
    assert values.tolist() == [h for hs in expected for h in hs]
    assert count.tolist() == [len(hs) for hs in expected]
    assert key.tolist() == [sum(hs) & M64 for hs in expected]
    assert not odd.any()


def test_sampled_packed_values_keep_a_quarter_with_the_row_number():
    texts = _texts(1, 300)
    offsets, data = buffers(pa.array(texts).slice(7))  # a slice: offsets do not start at 0
    rows = np.arange(0, len(texts) - 7, 2)  # every other row, numbered 1000, 1001, ...
    numbers = np.arange(1000, 1000 + len(rows))
    _, _, _, values = shingle_rows(data, offsets, rows, numbers, 12, True, True)
    expected = [
        (h >> 12 << 12) | number
        for r, number in zip(rows.tolist(), numbers.tolist(), strict=True)
        for h in reference_shingles(texts[7 + r])
        if h < 1 << 62
    ]
    assert values.tolist() == expected
    assert 0 < len(expected) < sum(len(reference_shingles(t)) for t in texts) / 2


def test_non_ascii_rows_are_flagged_and_emit_nothing():
    texts = ["plain words here", "café au lait", "more plain words"]
    offsets, data = buffers(pa.array(texts))
    rows = np.arange(3)
    key, count, odd, _ = shingle_rows(data, offsets, rows, rows, 0, False, True)
    assert odd.tolist() == [False, True, False]
    assert count.tolist() == [3, 0, 3]
    assert key[1] == 0


@pytest.mark.parametrize(
    ("csv", "bad"),
    [
        (b'a,b\n"x",y\n', -1),
        (b'a,b\n"x ""quoted"" word",y\n', -1),
        (b'a,b\r\n"x",y\r\n', -1),
        (b'a,b\n"x",y', -1),
        (b'a,b\n"x"z,y\n', 6),  # stray text after the closing quote
        (b'a,b\n"x,y\n', 9),  # never closed: the end of the file
    ],
)
def test_csv_scan_counts_lines_and_finds_the_first_bad_quote(csv, bad):
    lines, found = csv_scan(np.frombuffer(csv, np.uint8), ord(","))
    assert (lines, found) == (csv.count(b"\n"), bad)


def reference_scan(data: bytes, delim: int) -> tuple[int, int]:
    """csv_scan's quote rules, one byte at a time from the start of the file."""
    inside, i, n = False, 0, len(data)
    while i < n:
        if data[i] == 0x22:
            if inside and i + 1 < n and data[i + 1] == 0x22:
                i += 2
                continue
            if inside:
                inside = False
                if i + 1 < n and data[i + 1] not in (delim, 0x0A, 0x0D):
                    return data.count(b"\n"), i
            elif i == 0 or data[i - 1] in (delim, 0x0A):
                inside = True
        i += 1
    return data.count(b"\n"), n if inside else -1


@pytest.mark.parametrize("pieces", [1, 2, 3, 7])
def test_csv_scan_in_pieces_agrees_with_one_pass_from_the_start(pieces):
    # quoted fields with line breaks put the cuts inside them: those pieces are scanned again
    rng = random.Random(pieces)
    parts = [b'"', b'""', b",", b"\n", b"\r\n", b"a", b"bc", b'"x\ny"', b'"a,b"', b"\t"]
    found = set()
    for _ in range(3000):
        csv = b"".join(rng.choice(parts) for _ in range(rng.randint(0, 30)))
        for delim in (b",", b"\t"):
            expected = reference_scan(csv, delim[0])
            assert csv_scan(np.frombuffer(csv, np.uint8), delim[0], pieces) == expected, csv
            found.add("clean" if expected[1] < 0 else "end" if expected[1] == len(csv) else "bad")
    assert found == {"clean", "end", "bad"}


def test_blank_means_no_visible_character():
    values = ["", "   ", "\t\r\n", "\u00a0\u3000", "\u200b", "a", "  é", " .", None]
    got = validate._blank(pa.chunked_array([pa.array(values[:4]), pa.array(values[4:])]))
    assert got.tolist() == [True, True, True, True, True, False, False, False, True]


def test_duplicate_ids_survive_hash_collisions(monkeypatch):
    # every id hashes alike: only the exact comparison can tell them apart
    monkeypatch.setattr(
        validate, "hash_rows", lambda data, offsets: np.zeros(len(offsets) - 1, np.uint64)
    )
    ids = pa.chunked_array([pa.array(["a", "b", "a"]), pa.array(["c", "b", "a"])])
    reason = np.array([0, 0, 0, 0, 0, 1], np.int8)  # the last row is rejected already
    assert validate._duplicate_ids(ids, validate._hashes(ids), reason).tolist() == [
        -1,
        -1,
        0,
        -1,
        1,
        -1,
    ]


def test_kernels_release_the_gil():
    # the builder runs them on threads; without nogil they would take turns
    found = [getattr(m, n) for m in (kernels, near_kernels) for n in dir(m)]
    jitted = [f for f in found if hasattr(f, "targetoptions")]
    assert len(jitted) >= 10
    assert all(f.targetoptions.get("nogil") for f in jitted)


def test_shared_pairs_link_kept_rows_of_small_buckets_only():
    rng = random.Random(3)
    n, bits, max_bucket = 40, 6, 4
    entries = sorted({(rng.randrange(50), rng.randrange(n)) for _ in range(150)})
    entries += [(50, r) for r in range(max_bucket + 1)]  # one bucket too big to link
    entries += [(51, 1), (51, 1), (51, 2)]  # a row repeating a shingle counts once per bucket
    packed = np.array([(h << bits) | r for h, r in sorted(entries)], np.uint64)
    keep = np.array([rng.random() < 0.8 for _ in range(n)])
    keep[[1, 2]] = True
    pairs = near_kernels.shared_pairs(packed, bits, keep, max_bucket)
    expected = []
    for h in range(52):
        rows = sorted({r for g, r in entries if g == h and keep[r]})
        if 2 <= len(rows) <= max_bucket:
            expected += [a * n + b for i, a in enumerate(rows) for b in rows[i + 1 :]]
    assert sorted(pairs.tolist()) == sorted(expected)
    assert len(expected) > 10


@pytest.mark.parametrize("cuts", [[], [1 << 61], [1 << 40, 1 << 61, 3 << 61]])
def test_split_ranges_groups_values_by_range_keeping_their_order(cuts):
    rng = np.random.default_rng(6)
    values = rng.integers(0, 1 << 63, 500, dtype=np.uint64)
    values[:3] = cuts[:1] * 3 or [0, 0, 0]  # a value equal to a cut belongs to the range above
    grouped, starts = kernels.split_ranges(values, np.array(cuts, np.uint64))
    edges = [0, *cuts, 1 << 64]
    expected = [[int(v) for v in values if lo <= v < hi] for lo, hi in pairwise(edges)]
    assert [grouped[a:b].tolist() for a, b in pairwise(starts)] == expected
    assert len(starts) == len(cuts) + 2


def test_common_counts_of_sorted_runs():
    rng = random.Random(4)
    runs = [sorted(rng.sample(range(30), rng.randint(0, 12))) for _ in range(20)]
    values = np.array([v for run in runs for v in run], np.uint64)
    size = np.array([len(run) for run in runs])
    a = np.array([rng.randrange(20) for _ in range(50)])
    b = np.array([rng.randrange(20) for _ in range(50)])
    got = near_kernels.common_counts(values, np.cumsum(size) - size, size, a, b)
    expected = [len(set(runs[i]) & set(runs[j])) for i, j in zip(a, b, strict=True)]
    assert got.tolist() == expected
    assert sum(expected) > 20


def test_likely_pairs_merge_two_sorted_runs_and_keep_high_estimates():
    n = 10
    sampled = np.array([4, 4, 4, 4, 1, 1, 8, 8, 2, 2])
    first = np.sort(np.array([0 * n + 1, 0 * n + 1, 0 * n + 1, 4 * n + 5, 6 * n + 7, 2 * n + 3]))
    second = np.sort(np.array([0 * n + 1, 6 * n + 7, 8 * n + 9, 2 * n + 3]))
    a, b = near_kernels.likely_pairs(first, second, n, sampled, 0.4)
    # (0, 1): 4 shared of 4 + 4 - 4 = 1.0; (4, 5): 1 of 1 + 1 - 1 = 1.0; (6, 7): 2 of 14 = 0.14;
    # (8, 9): 1 of 3 = 0.33; (2, 3): 2 of 6 = 0.33
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1), (4, 5)]


@pytest.mark.parametrize("min_estimate", [0.4, 0.7 - 0.3, 0.5, 1 / 3])
def test_likely_pairs_keep_exactly_the_pairs_the_estimate_keeps(min_estimate):
    # small counts put many pairs on the boundary (e.g. 2 of 3 + 4 - 2 = 0.4), where the kernel's
    # shortcut (a's count alone rules a pair out) must agree with the estimate itself
    rng = random.Random(5)
    n = 30
    sampled = np.array([rng.randint(3, 8) for _ in range(n)])
    shared = {a * n + b: rng.randint(1, 3) for a in range(n) for b in range(a + 1, n)}
    first, second = [], []
    for value, count in shared.items():
        for _ in range(count):  # each shingle the pair shares, found by one of two workers
            rng.choice((first, second)).append(value)
    a, b = near_kernels.likely_pairs(
        np.array(sorted(first)), np.array(sorted(second)), n, sampled, min_estimate
    )
    expected = [
        (v // n, v % n)
        for v, c in shared.items()
        if c / (sampled[v // n] + sampled[v % n] - c) >= min_estimate
    ]
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == expected
    assert 10 < len(expected) < len(shared) / 2


WARM_THEN_BUILD = """
import json, sys
from stance.data import build_dataset, kernels, near_kernels
kernels.warm_up()
found = {f"{m.__name__}.{n}": getattr(m, n) for m in (kernels, near_kernels) for n in dir(m)}
found = {n: f for n, f in found.items() if hasattr(f, "signatures")}
names = sorted(found)
before = {n: set(found[n].signatures) for n in names}
build_dataset(json.loads(sys.argv[1]), sys.argv[2])
new = {n: [str(s) for s in set(found[n].signatures) - before[n]] for n in names}
print(json.dumps({"names": names, "new": new}))
"""


def test_warm_up_loads_every_signature_a_build_uses(tmp_path):
    # the benchmark times warm_up apart from the build: nothing may be left to compile inside
    # (a fresh process: this one may have compiled signatures in earlier tests)
    cfg = OmegaConf.to_container(user_dataset(write(tmp_path / "in.csv", corpus())))
    done = subprocess.run(
        [sys.executable, "-c", WARM_THEN_BUILD, json.dumps(cfg), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found["names"]) >= 8
    assert not any(found["new"].values()), found["new"]


def test_gather_strings_copies_rows_of_many_chunks_into_one():
    texts = _texts(5, 60)
    column = pa.chunked_array([pa.array(texts[:20]), pa.array(texts[20:]).slice(3, 30)])
    values = column.to_pylist()
    rows = np.array([0, 4, 19, 20, 21, 35, 49])
    got = gather_strings(column, rows)
    assert got.num_chunks == 1
    assert got.to_pylist() == [values[i] for i in rows]
    assert gather_strings(column, rows[:0]).to_pylist() == []
    with_null = pa.chunked_array([pa.array(["a", None, "c"])])
    assert gather_strings(with_null, np.array([0, 2])).to_pylist() == ["a", "c"]
    assert gather_strings(with_null, np.array([1, 2])).to_pylist() == [None, "c"]
