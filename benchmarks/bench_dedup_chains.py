"""Time `build_dataset` on rows with near-duplicate chains, as a ratio to the same rows without.

    python benchmarks/bench_dedup_chains.py                   # 300k rows
    python benchmarks/bench_dedup_chains.py --rows 30000 300000 --share 0.25
    python benchmarks/bench_dedup_chains.py --rows 30000 --previous HEAD   # and the old builder

Per size, bench_build's synthetic CSV (rows/20 documents, ~1% exact and ~1% near copies) is the
baseline. Two variants rewrite `--share` of its rows (picked at random, so in random documents)
as 40-word texts in groups of `--length`:
- `chains`: each text one word away from the one before (a drifting chain of edits),
- `copies`: each text one word away from the group's first (a dense cluster, e.g. boilerplate).
Each file is built in a fresh child process (wall seconds and peak RSS of its own), with
`dedup.action=same_split` (the default: the chains join their documents into one group holding
most rows, and the build stops with the message that names it; its time is the time to that
stop) and `dedup.action=report` (every near-duplicate pair is found and the build completes).
The table gives seconds, the ratio to the baseline build, the near-duplicate pairs and the
largest group (from the card, or the stop message), and the load average at the start and end.
`--previous REF` also builds each chained file with `git archive REF src` (the baseline is
always the working tree's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from bench_build import dataset_config, synthetic, unpack_previous

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, shutil, sys, time
from stance.data import build_dataset, read_card
from stance.errors import StanceError
cfg, out = json.loads(sys.argv[1]), sys.argv[2]
shutil.rmtree(out, ignore_errors=True)  # every build from scratch
start = time.perf_counter()
try:
    card = read_card(build_dataset(cfg, out))
    result = {"pairs": card["dedup"]["near"]["pairs"], "counts": card["counts"]}
    result["group"] = card["dedup"].get("largest_group")  # a previous builder has none
except StanceError as error:
    result = {"stopped": str(error).splitlines()[0]}
result["seconds"] = time.perf_counter() - start
result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result))
"""


def with_chains(base: Path, path: Path, share: float, length: int, kind: str, seed: int = 1):
    """`base` with `share` of its rows rewritten as groups of `length` near-duplicate texts."""
    table = pcsv.read_csv(base)
    rng = np.random.default_rng(seed)
    n_groups = int(table.num_rows * share) // length
    members = rng.permutation(table.num_rows)[: n_groups * length]
    words = np.repeat(rng.integers(0, 50_000, (n_groups, 40)), length, axis=0)
    group, step = np.divmod(np.arange(len(members)), length)
    if kind == "copies":  # every member: the group's first text with one word replaced
        edited = step > 0
        count = int(edited.sum())
        words[edited, rng.integers(0, 40, count)] = rng.integers(50_000, 99_999, count)
    else:  # member k: member k-1 with one more word replaced
        where, what = rng.integers(0, 40, (n_groups, length)), rng.integers(50_000, 99_999)
        for k in range(1, length):
            at = np.flatnonzero(step >= k)
            words[at, where[group[at], k]] = what + k
    texts = [" ".join(f"w{w}" for w in row) + "." for row in words]
    text = table["text"].to_pylist()
    for row, new in zip(members.tolist(), texts, strict=True):
        text[row] = new
    pcsv.write_csv(table.set_column(table.column_names.index("text"), "text", pa.array(text)), path)


def build(path: Path, action: str, work: Path, src: Path = ROOT / "src") -> dict:
    """Build `path` with dedup.action=`action` in a fresh interpreter (the builder in `src`);
    its JSON result."""
    cfg = dataset_config(path)
    cfg["dedup"] = {**cfg["dedup"], "action": action}
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg), str(work / "processed")],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode or not done.stdout.strip():
        sys.exit(f"build of {path.name} ({action}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(label: str, result: dict, baseline: float) -> str:
    """One line of the Markdown table."""
    group, counts = result.get("group"), result.get("counts")
    if "stopped" in result:
        what = f"stopped: {result['stopped'][:150]}..."
    elif group:
        what = f"{group['rows']:,} rows ({group['share']:.1%}), {group['documents']} documents"
    else:  # a previous builder: not reported; the split sizes show what the group did
        what = "not reported; rows per split " + "/".join(str(c["total"]) for c in counts.values())
    cells = [
        label, f"{result['seconds']:.2f} s", f"{result['seconds'] / baseline:.2f}x",
        f"{result.get('pairs', '-')}", what, f"{result['peak_rss_kib'] / 2**20:.2f} GB",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    """Build the baseline and the chained files at every size; print the table and the load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[300_000])
    parser.add_argument("--share", type=float, default=0.25, help="rows rewritten into groups")
    parser.add_argument("--length", type=int, default=50, help="texts per chain or cluster")
    parser.add_argument("--previous", help="also build the chained files with this git ref's src")
    args = parser.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    head = (
        "| rows, file, dedup.action | build | / baseline | near pairs | largest group | peak RSS |"
    )
    lines = [head, "|---" * 6 + "|"]
    with tempfile.TemporaryDirectory(prefix="bench_chains-") as tmp:
        work = Path(tmp)
        old = unpack_previous(args.previous, work / "previous") if args.previous else None
        for rows in args.rows:
            base = work / f"base_{rows}.csv"
            synthetic(base, rows, max(rows // 20, 1))
            baseline = build(base, "same_split", work)
            lines.append(row(f"{rows:,}, no chains, same_split", baseline, baseline["seconds"]))
            for kind in ("chains", "copies"):
                path = work / f"{kind}_{rows}.csv"
                with_chains(base, path, args.share, args.length, kind)
                for action in ("same_split", "report"):
                    result = build(path, action, work)
                    label = f"{rows:,}, {kind}, {action}"
                    lines.append(row(label, result, baseline["seconds"]))
                    if old:
                        result = build(path, action, work, old)
                        lines.append(row(f"{label} ({args.previous})", result, baseline["seconds"]))
                path.unlink()
                print(f"{rows:,} rows, {kind} done", file=sys.stderr)
    load_end = [round(x, 2) for x in os.getloadavg()]
    print("\n".join(lines))
    print(f"share {args.share:g} of the rows in groups of {args.length}")
    print(f"load average (1, 5, 15 min): start {load_start}, end {load_end}")


if __name__ == "__main__":
    main()
