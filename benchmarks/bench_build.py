"""Time `build_dataset` on N synthetic paragraphs against `pandas.read_csv` of the same file.

    python benchmarks/bench_build.py                 # 1M rows in 50k documents
    python benchmarks/bench_build.py --rows 100000   # quicker

Both are timed in this run on the same file, after one untimed read warms the page cache: the build
`--repeat` times (default 3, each from scratch, in one child process so that its peak RSS,
ru_maxrss, is the build's alone) and `pandas.read_csv` `--repeat` times before and as many after it
(this VM's speed drifts by up to 2x within minutes). Prints the wall-time ratio of the best build to
the best read (as `timeit` reports), the ratio of the medians, the ratio in CPU time, the one-off
load of the compiled kernels (numba's start-up, once per process, timed apart from the build like
both contenders' imports) and the ratio with that load included, the peak RSS and the 1-minute
load average; results go in benchmarks/results/bench_build.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

LABELS = np.array(["pro", "anti", "neutral"])
CHILD = """
import json, shutil, sys, time
from stance.data import build_dataset, kernels, parallel, read_card
cfg, out, threads, repeat = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if threads:
    parallel.MAX_WORKERS = threads
start = time.perf_counter()
kernels.warm_up()  # once per process, like the imports: timed on its own
load = time.perf_counter() - start
seconds, cpu = [], []
for _ in range(repeat):
    shutil.rmtree(out, ignore_errors=True)  # every build from scratch
    start, cpu_start = time.perf_counter(), time.process_time()
    folder = build_dataset(cfg, out)
    seconds.append(time.perf_counter() - start)
    cpu.append(time.process_time() - cpu_start)
print(json.dumps({"seconds": seconds, "cpu": cpu, "load": load, "rows": read_card(folder)["rows"]}))
"""


def synthetic(path: Path, rows: int, docs: int, seed: int = 0) -> None:
    """Write `rows` paragraphs (15-60 words) in `docs` documents: ~1% exact and ~1% near copies."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype="S1")
    vocab = pa.array(
        [b"".join(rng.choice(letters, k)).decode() for k in rng.integers(2, 10, 20_000)]
    )
    lengths = rng.integers(15, 60, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    words = pa.LargeListArray.from_arrays(offsets, vocab.take(rng.integers(0, 20_000, offsets[-1])))
    text = pc.binary_join(words, " ")
    # syndicated copies: 1% exact, 1% with the sixth word changed
    kind = rng.random(rows)
    source = np.where(kind < 0.02, rng.integers(0, rows, rows), np.arange(rows))
    text = text.take(source)
    edited = pc.replace_substring_regex(text, r"^((?:\S+ ){5})\S+", r"\1edited")
    text = pc.if_else(pa.array((kind >= 0.01) & (kind < 0.02)), edited, text)
    doc = np.sort(rng.integers(0, docs, rows))
    keep_doc_label = rng.random(rows) < 0.8
    label = np.where(keep_doc_label, rng.integers(0, 3, docs)[doc], rng.integers(0, 3, rows))
    day = (np.datetime64("2015-01-01") + rng.integers(0, 3650, docs))[doc]
    table = pa.table(
        {
            "id": pc.binary_join_element_wise("p", pa.array(np.arange(rows)).cast(pa.string()), ""),
            "doc_id": pc.binary_join_element_wise("d", pa.array(doc).cast(pa.string()), ""),
            "text": pc.binary_join_element_wise(pc.utf8_capitalize(text), ".", ""),
            "label": pa.array(LABELS[label]),
            "target": pa.array(np.char.add("US policy ", (doc % 40).astype(str))),
            "source": pa.array(np.full(rows, "synthetic")),
            "date": pa.array(day.astype(str)),
        }
    )
    pcsv.write_csv(table, path)


def dataset_config(path: Path) -> dict:
    """The csv_template settings for the synthetic file, as a plain dict."""
    columns = {c: c for c in ("text", "label", "id", "doc_id", "target", "source", "date")}
    return {
        "name": "bench",
        "format": "csv",
        "path": str(path),
        "columns": columns,
        "labels": ["anti", "pro"],
        "label_map": {"neutral": "neutral"},
        "split": {"strategy": "grouped"},
        "dedup": {"conflicts": "majority"},  # copies were labeled independently
    }


def main() -> None:
    """Generate, time both, print one JSON line and a Markdown row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--docs", type=int, default=None, help="default: rows / 20")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument(
        "--threads", type=int, default=0, help="cap on the build's threads (default: all cores)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="builds (each from scratch) and reads, each timed"
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_build-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"synthetic_{args.rows}.csv"
    if not path.exists():
        synthetic(path, args.rows, args.docs or max(args.rows // 20, 1))
    pd.read_csv(path)  # untimed: warm the page cache for both contenders
    reads = _time_reads(path, args.repeat)
    cfg = json.dumps(dataset_config(path))
    command = [sys.executable, "-c", CHILD, cfg, str(work / "processed"), str(args.threads)]
    done = subprocess.run([*command, str(args.repeat)], capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"build failed:\n{done.stderr[-3000:]}")
    reads += _time_reads(path, args.repeat)  # before and after: the machine's speed drifts
    child = json.loads(done.stdout.strip().splitlines()[-1])
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux
    read_s = [r[0] for r in reads]
    read_best, build_best = min(read_s), min(child["seconds"])
    read_median, build_median = statistics.median(read_s), statistics.median(child["seconds"])
    result = {
        "rows": args.rows,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "repeat": args.repeat,
        "read_csv_s": round(read_best, 2),
        "build_s": round(build_best, 2),
        "ratio": round(build_best / read_best, 2),
        "read_csv_median_s": round(read_median, 2),
        "build_median_s": round(build_median, 2),
        "ratio_median": round(build_median / read_median, 2),
        "kernel_load_s": round(child["load"], 2),
        "ratio_with_load": round((build_best + child["load"]) / read_best, 2),
        "read_csv_cpu_s": round(min(r[1] for r in reads), 2),
        "build_cpu_s": round(min(child["cpu"]), 2),
        "cpu_ratio": round(min(child["cpu"]) / min(r[1] for r in reads), 2),
        "build_runs_s": [round(x, 2) for x in child["seconds"]],
        "read_csv_runs_s": [round(x, 2) for x in read_s],
        "threads": args.threads or "all",
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_gb": round(peak_gb, 2),
        "accounting": child["rows"],
    }
    print(json.dumps(result))
    r = result
    print(
        f"| {args.rows:,} | {r['read_csv_s']} s | {r['build_s']} s | **{r['ratio']}x** | "
        f"{r['read_csv_median_s']} s | {r['build_median_s']} s | {r['ratio_median']}x | "
        f"{r['cpu_ratio']}x | {r['kernel_load_s']} s | {r['ratio_with_load']}x | "
        f"{r['peak_rss_gb']} GB | {r['load_average']} |"
    )


def _time_reads(path: Path, repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of `repeat` plain `pandas.read_csv` calls."""
    out = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        pd.read_csv(path)
        out.append((time.perf_counter() - start, time.process_time() - cpu))
    return out


if __name__ == "__main__":
    main()
