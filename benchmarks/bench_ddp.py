"""Data-parallel training on this machine: 2 ranks (torchrun, gloo) vs 1 process, in one run.

    python benchmarks/bench_ddp.py                       # MiniLM on the demo corpus, 30 steps
    python benchmarks/bench_ddp.py --steps 10 --repeats 1   # quicker

Both sides run ``scripts/train.py model=minilm`` with the same global batch (one process with
``2 x B`` windows per step, two ranks with ``B`` each) for the same optimizer steps, and the same
two CPU cores (torchrun gives each rank one thread, the single process uses both). Throughput =
windows trained per second of the Trainer's loop (``train_runtime``; it includes the one
validation pass and checkpoint at the last step); ratio = 2 ranks / 1 process. The metric
difference is 2 ranks minus 1 process on the same test split (each rank draws its own dropout
masks, so the runs are not identical). Sides alternate; each keeps its fastest repeat.
Results go in benchmarks/results/bench_ddp.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stance import runs

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = re.compile(r"'train_runtime': '([0-9.]+)'")
METRICS = ("test/f_avg", "test/accuracy", "validation/f_avg")


def uptime() -> str:
    """The machine's load line, as ``uptime`` prints it."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def train(ranks: int, batch: int, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """One run of train.py; returns its wall and loop seconds and its metrics."""
    launcher = [sys.executable]
    if ranks > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ranks}"]
    overrides = [
        "model=minilm",
        f"model.batch_size={batch}",
        f"model.max_steps={args.steps}",
        f"model.eval_steps={args.steps}",  # one validation pass and checkpoint, at the end
        f"model.save_steps={args.steps}",
        "model.progress_bar=false",
        "evaluation.bootstrap=0",
        f"paths.processed_root={folder / 'processed'}",
        f"paths.runs_root={folder}",
        f"hydra.run.dir={folder / 'run'}",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        [*launcher, "scripts/train.py", *overrides], cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"train.py with {ranks} rank(s) failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    loop = float(RUNTIME.findall(done.stdout + done.stderr)[-1])
    metrics = runs.read_metrics(folder / "run")
    return {"wall": wall, "loop": loop, **{k: metrics[k] for k in METRICS}}


def main() -> None:
    """Alternate 1 process and 2 ranks, print a Markdown table of the ratio and differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    parser.add_argument("--batch", type=int, default=8, help="windows per rank and step (B)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating repeats per side")
    args = parser.parse_args()

    print(f"load at start: {uptime()}")
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for ranks in (1, 2):
            with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
                results[ranks].append(train(ranks, args.batch * (3 - ranks), args, Path(tmp)))
            print(f"{ranks} rank(s): {results[ranks][-1]}  ({uptime()})", file=sys.stderr)
    print(f"load at end:   {uptime()}\n")

    best = {r: min(results[r], key=lambda x: x["loop"]) for r in (1, 2)}
    windows = args.steps * 2 * args.batch
    speed = {r: windows / best[r]["loop"] for r in (1, 2)}
    print(f"{args.steps} steps x {2 * args.batch} windows (global batch), MiniLM, demo corpus\n")
    print("| measurement | 2 ranks | 1 process (reference) | ratio / difference |")
    print("|---|---|---|---|")
    print(
        f"| training loop, windows/s | {speed[2]:.2f} | {speed[1]:.2f} "
        f"| {speed[2] / speed[1]:.2f}x |"
    )
    print(
        f"| whole command (start, dataset, train, evaluate), s | {best[2]['wall']:.0f} "
        f"| {best[1]['wall']:.0f} | {best[1]['wall'] / best[2]['wall']:.2f}x |"
    )
    for key in METRICS:
        first, second = best[2][key], best[1][key]
        print(f"| {key} | {first:.3f} | {second:.3f} | {first - second:+.3f} |")
    print(f"\nall runs: {results}")


if __name__ == "__main__":
    main()
