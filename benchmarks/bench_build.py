"""Time `build_dataset` on synthetic rows against `pandas.read_csv` and the previous builder.

    python benchmarks/bench_build.py                       # 10k, 100k and 1M rows
    python benchmarks/bench_build.py --rows 10000 100000   # quicker
    python benchmarks/bench_build.py --previous c15fb87 --json results.json

Per size the synthetic CSV (rows/20 documents, ~1% exact and ~1% near copies) is written once to
a temp folder; each contender runs in its own fresh `sys.executable` child, which reports its own
wall/CPU seconds and peak RSS (ru_maxrss): `pandas.read_csv` (after an untimed page-cache read),
the working tree's builder, and the one at `--previous` (`git archive REF src` unpacked into the
temp folder, first on PYTHONPATH; noted and skipped if it does not import). Builder children build
a 2,000-row file untimed first (plus `kernels.warm_up()` if present: numba JIT), then `--repeat`
builds from scratch (default 3 up to 100k rows, else 2). The temp folder is removed, also on error.
Target at 1M rows: median build <= 20 s and peak RSS < 3 GB, time linear in rows.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parents[1]
LABELS = np.array(["pro", "anti", "neutral"])
TARGET_S, TARGET_GB = 20.0, 3.0
CHILD = """
import json, resource, shutil, sys, time
mode, args, repeat = sys.argv[1], sys.argv[2:-1], int(sys.argv[-1])
def usage():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
if mode == "read":
    import pandas as pd
    pd.read_csv(args[0])  # untimed: warms the page cache
    call = lambda: pd.read_csv(args[0])
else:
    try:
        import stance
        from stance.data import build_dataset, read_card
    except ImportError as error:
        print(json.dumps({"import_error": str(error)}))
        sys.exit(0)
    cfg, warm_cfg, out = json.loads(args[0]), json.loads(args[1]), args[2]
    getattr(sys.modules.get("stance.data.kernels"), "warm_up", lambda: None)()  # old numba code
    build_dataset(warm_cfg, out)  # untimed: JIT compile, first-touch imports
    def call():
        shutil.rmtree(out, ignore_errors=True)  # every build from scratch
        return build_dataset(cfg, out)
result = {"seconds": [], "cpu": []}
for _ in range(repeat):
    start, cpu_start = time.perf_counter(), usage()
    folder = call()
    result["seconds"].append(time.perf_counter() - start)
    result["cpu"].append(usage() - cpu_start)
if mode == "build":
    result.update(stance=stance.__file__, kept=read_card(folder)["rows"]["kept"])
result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result))
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


def child(args: list[str], cwd: Path, pythonpath: Path | None = None) -> dict:
    """Run CHILD with `args` in a fresh interpreter; return the JSON of its last line (or error)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode or not done.stdout.strip():
        error = done.stderr.strip() or f"exit status {done.returncode}"
        return {"error": error[-2000:], "error_line": error.splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def unpack_previous(ref: str, into: Path) -> Path:
    """Extract `src/` of git `ref` into `into` (the repository is left as it was); return it."""
    tar = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into / "src"


def measure(rows: int, repeat: int, work: Path, warm_cfg: str, old_src: Path | None) -> dict:
    """Write the CSV for `rows`, time the three contenders on it, return the raw numbers."""
    path = work / f"synthetic_{rows}.csv"
    synthetic(path, rows, max(rows // 20, 1))
    cfg, out = json.dumps(dataset_config(path)), str(work / "processed")
    result: dict = {"rows": rows, "repeat": repeat, "file_mb": path.stat().st_size / 2**20}
    build = ["build", cfg, warm_cfg, out, str(repeat)]
    result["pandas"] = child(["read", str(path), str(repeat)], work)
    result["new"] = child(build, work)
    for name in ("pandas", "new"):
        if "seconds" not in result[name]:
            sys.exit(f"{name} failed at {rows:,} rows: {result[name].get('error', result[name])}")
    if old_src:
        result["previous"] = child(build, work, old_src)
    path.unlink()
    return result


def table(results: list[dict]) -> str:
    """The Markdown table of `results`."""
    head = (
        "| rows | file MB | read_csv best | new best | new median | new CPU | new/read_csv | "
        "new/previous | previous best | new peak RSS | previous peak RSS | new s per 100k rows |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        read, new, old = min(r["pandas"]["seconds"]), min(r["new"]["seconds"]), r.get("previous")
        ran = bool(old and "seconds" in old)
        old_best = min(old["seconds"]) if ran else None
        cells = [
            f"{r['rows']:,}", f"{r['file_mb']:.1f}", f"{read:.3f} s", f"{new:.3f} s",
            f"{statistics.median(r['new']['seconds']):.3f} s", f"{min(r['new']['cpu']):.2f} s",
            f"{new / read:.2f}x", f"{new / old_best:.2f}x" if ran else "-",
            f"{old_best:.3f} s" if ran else "not run", f"{r['new']['peak_rss_kib'] / 2**20:.2f} GB",
            f"{old['peak_rss_kib'] / 2**20:.2f} GB" if ran else "-",
            f"{new / r['rows'] * 1e5:.3f} s",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Measure every size, print the table, the target verdict and the load averages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=None, help="default: 3 to 100k rows, else 2")
    parser.add_argument("--previous", default="c15fb87", help="git ref of the previous builder")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the temp folder is removed
    load_start = [round(x, 2) for x in os.getloadavg()]
    results, notes = [], []
    with tempfile.TemporaryDirectory(prefix="bench_build-") as tmp:
        work = Path(tmp)
        synthetic(work / "warm.csv", 2_000, 100)
        warm_cfg = json.dumps(dataset_config(work / "warm.csv") | {"name": "warm"})
        try:
            old_src = unpack_previous(args.previous, work / "previous")
        except subprocess.CalledProcessError as error:
            old_src, why = None, error.stderr.decode().strip()
            notes.append(f"previous builder: not run (git archive {args.previous}: {why})")
        for rows in args.rows:
            repeat = args.repeat or (3 if rows <= 100_000 else 2)
            results.append(r := measure(rows, repeat, work, warm_cfg, old_src))
            old = r.get("previous", {})
            if "import_error" in old:
                notes.append(f"previous builder: not run ({old['import_error']})")
                old_src = None  # it will not import at the next size either
            elif "error" in old:
                notes.append(f"previous builder, {rows:,} rows: failed ({old['error_line']})")
            elif old and old["kept"] != (kept := r["new"]["kept"]):
                notes.append(f"{rows:,} rows: kept {kept} (new) vs {old['kept']} (previous)")
            print(f"{rows:,} rows done", file=sys.stderr)
    load_end = [round(x, 2) for x in os.getloadavg()]
    print(table(results), "", *notes, sep="\n")
    print(f"new builder: {results[0]['new']['stance']}; previous: {args.previous}")
    print(f"load average (1, 5, 15 min): start {load_start}, end {load_end}")
    big, verdict = [r["new"] for r in results if r["rows"] == 1_000_000], "not measured"
    if big:
        median, gb = statistics.median(big[0]["seconds"]), big[0]["peak_rss_kib"] / 2**20
        met = "met" if median <= TARGET_S and gb < TARGET_GB else "NOT met"
        verdict = f"{met} (median {median:.2f} s, peak RSS {gb:.2f} GB)"
    print(f"1M-row target (<= {TARGET_S:g} s, < {TARGET_GB:g} GB): {verdict}")
    if args.json:
        raw = {"previous": args.previous, "load_start": load_start, "load_end": load_end}
        args.json.write_text(json.dumps(raw | {"results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
