"""Time an ONNX export (fp32, and int8 with --int8) against ``load_model(run).predict_proba``.

    python benchmarks/bench_onnx.py                            # demo MiniLM, validation split
    python benchmarks/bench_onnx.py --int8 --split all --repeats 3

Exports the run into a temporary folder through ``stance.export.command.export_model`` (so the
parity check on validation runs as in scripts/export.py; int8 is written whatever its agreement,
since here it is measured, not shipped), then times each runtime on the same texts, calls
interleaved so that a change in the machine's load falls on all of them alike, and reports the
median seconds, the ratio to PyTorch, the largest probability difference and the label agreement.
Results go in benchmarks/results/bench_onnx.md, with `uptime` before and after.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from stance import load_model, runs
from stance.experiment.evaluation import prepare_dataset
from stance.export.command import export_model, timings
from stance.models.onnx_runtime import INT8_FILE
from stance.models.onnx_setfit import open_export


def texts_of(run: Path, split: str) -> tuple[list[str], list[str] | None]:
    """Texts and targets of the run's dataset: its validation split, or every split."""
    cfg = runs.read_config(run)
    dataset, _ = prepare_dataset(cfg.dataset, cfg.paths.processed_root)
    splits = list(dataset) if split == "all" else [split]
    texts = [t for s in splits for t in dataset[s]["text"]]
    targets = [t for s in splits for t in dataset[s]["target"]]
    return texts, targets


def main() -> None:
    """Export, time, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/demo/minilm/default", type=Path)
    parser.add_argument("--split", default="validation", help="validation | test | train | all")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    predictor = load_model(args.run)
    texts, targets = texts_of(args.run, args.split)
    targets = targets if predictor.uses_target else None
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as scratch:
        folder = Path(scratch) / "onnx"
        exported = export_model(args.run, folder, int8=args.int8, int8_min_agreement=0, repeats=1)
        runtimes = {"onnx": open_export(folder)}
        if args.int8:
            runtimes["int8"] = open_export(folder, INT8_FILE)
        reference = predictor.predict_proba(texts, targets)
        proba = {name: r.predict_proba(texts, targets) for name, r in runtimes.items()}
        calls = {"pytorch": lambda: predictor.predict_proba(texts, targets)}
        calls.update({k: lambda r=r: r.predict_proba(texts, targets) for k, r in runtimes.items()})
        speed = timings(calls, args.repeats, exported["batch_size"])
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    took, gold = speed["seconds"], reference.argmax(axis=1)
    print(f"{args.run}: {len(texts)} paragraphs ({args.split}), {args.repeats} repeats,")
    print(f"window batch {speed['window_batch_size']}, torch threads {speed['torch_threads']}")
    print(f"uptime before: {load_before}\nuptime after:  {load_after}\n")
    print("| runtime | median s | vs PyTorch | max abs prob. diff | labels = PyTorch's |")
    print("|---|---|---|---|---|")
    print(f"| PyTorch `load_model().predict_proba` | {took['pytorch']:.2f} | 1.00x | - | - |")
    for name, p in proba.items():
        agree = int((p.argmax(axis=1) == gold).sum())
        print(
            f"| ONNX {name} | {took[name]:.2f} | {speed['speedup_vs_pytorch'][name]:.2f}x "
            f"| {float(np.abs(p - reference).max()):.1e} | {agree}/{len(texts)} "
            f"({agree / len(texts):.1%}) |"
        )


if __name__ == "__main__":
    main()
