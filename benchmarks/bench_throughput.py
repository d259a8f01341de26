"""Labelling throughput of every family against ``transformers.pipeline``, same texts, same run.

    python benchmarks/bench_throughput.py                       # 2,000 demo paragraphs, 5 families
    python benchmarks/bench_throughput.py --paragraphs 500 --families tfidf_logreg,minilm

Each family is trained briefly on the demo corpus's train split (speed does not depend on how
well it learned: the encoder families get a few optimizer steps), saved, and read back with
``stance.load_model`` as predict.py reads it. Then, in each repeat, the reference and every family
label the same paragraphs (the demo corpus's paragraphs with their policies, cycled to
``--paragraphs``); each keeps its fastest repeat, because the machine is shared. The reference is
the fine-tuned MiniLM run as most people would: ``transformers.pipeline("text-classification")``
over (policy, paragraph) pairs, ``batch_size=64``, truncated to the model's window.

``--end-to-end`` also runs ``scripts/predict.py`` on each saved model in a fresh process, over a
JSONL table of the same paragraphs (10 per document) and over a tenth of it: the marginal rate
(extra paragraphs / extra seconds) leaves out the process start and model loading.

Prints paragraphs/s, paragraphs/hour and the ratio to the pipeline; the issue's targets (the
default model >= 1,000,000 paragraphs/hour, the best encoder family >= 250,000) are checked on the
printed figures. Results go in benchmarks/results/bench_throughput.md with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from stance import load_model, models
from stance.data import ensure_dataset

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FAMILIES = ["tfidf_logreg", "tfidf_svm", "hybrid", "setfit", "minilm"]
BRIEF = {  # a few optimizer steps: enough for a model whose speed is what is measured
    "minilm": ["model.max_steps=8", "model.progress_bar=false"],
    "setfit": ["model.max_steps=8", "model.progress_bar=false"],
    "hybrid": [],
}
DEFAULT_MODEL = "tfidf_logreg"  # the main job's model (configs/train.yaml)


def config(family: str) -> object:
    """The train config with ``model=family`` and its brief training budget."""
    import stance.config_schemas
    import stance.runs  # noqa: F401  (schemas and resolvers of the train config)

    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose("train", [f"model={family}", "run_dir=unused", *BRIEF.get(family, [])])


def best_of(fn: Callable[[], object], seconds: list[float]) -> object:
    """Run ``fn`` and record its wall time."""
    start = time.perf_counter()
    out = fn()
    seconds.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--end-to-end", action="store_true")
    args = parser.parse_args()
    families = args.families.split(",")

    data = ensure_dataset(config(DEFAULT_MODEL).dataset, "data/processed")
    pool = [row for split in ("test", "validation", "train") for row in data[split]]
    rows = [pool[i % len(pool)] for i in range(args.paragraphs)]
    texts, targets = [r["text"] for r in rows], [r["target"] for r in rows]

    predictors = {}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        for family in families:
            started = time.perf_counter()
            model = models.build(config(family).model).fit(data["train"], data["validation"])
            model.save(Path(scratch) / family)
            predictors[family] = load_model(Path(scratch) / family)
            print(f"{family}: trained briefly in {time.perf_counter() - started:.0f} s", flush=True)

        reference = pipeline_reference(predictors.get("minilm"), texts, targets)
        seconds: dict[str, list[float]] = {name: [] for name in [*reference, *predictors]}
        labels: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, run in reference.items():
                labels[name] = best_of(run, seconds[name])
            for family, predictor in predictors.items():
                call = lambda p=predictor: p.predict(texts, targets)  # noqa: E731
                labels[family] = np.asarray(best_of(call, seconds[family]))
        if args.end_to_end:
            end_to_end(Path(scratch), families, rows)

    fastest = {name: min(values) for name, values in seconds.items()}
    base = next(iter(reference), None)
    print(
        f"\n{args.paragraphs} paragraphs, best of {args.repeats}; {os.cpu_count()} CPUs, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("| labeller | s | paragraphs/s | paragraphs/hour | ratio to the pipeline |")
    print("|---|---|---|---|---|")
    for name, took in fastest.items():
        rate = args.paragraphs / took
        ratio = f"{fastest[base] / took:.2f}x" if base else "–"
        print(f"| {name} | {took:.2f} | {rate:,.0f} | {rate * 3600:,.0f} | {ratio} |")
    if base and "minilm" in labels:
        same = float((np.asarray(labels[base]) == labels["minilm"]).mean())
        print(f"\nminilm labels equal to the pipeline's on {same:.1%} of the paragraphs")
    if DEFAULT_MODEL in fastest:
        hourly = args.paragraphs / fastest[DEFAULT_MODEL] * 3600
        print(f"default model ({DEFAULT_MODEL}): {hourly:,.0f}/hour (target 1,000,000)")
    encoders = [f for f in ("minilm", "setfit", "hybrid") if f in fastest]
    if encoders:
        best = min(encoders, key=fastest.get)
        hourly = args.paragraphs / fastest[best] * 3600
        print(f"fastest encoder family ({best}): {hourly:,.0f}/hour (target 250,000)")


def end_to_end(scratch: Path, families: list[str], rows: list[dict]) -> None:
    """predict.py in a fresh process per model over all ``rows`` and a tenth of them."""
    sizes = {"all": len(rows), "tenth": len(rows) // 10}
    for name, n in sizes.items():
        lines = [
            {"id": f"p{i}", "doc_id": f"d{i // 10:05d}", "text": r["text"], "target": r["target"]}
            for i, r in enumerate(rows[:n])
        ]
        (scratch / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    print("\n| predict.py, whole process | all | a tenth | marginal paragraphs/s | per hour |")
    print("|---|---|---|---|---|")
    for family in families:
        took = {}
        for name in sizes:
            out = scratch / f"{family}-{name}.out.jsonl"
            command = [sys.executable, "scripts/predict.py", f"model={scratch / family}"]
            command += [f"input={scratch / name}.jsonl", f"output={out}", "progress=false"]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=CONFIGS.parent)
            took[name] = time.perf_counter() - start
        rate = (sizes["all"] - sizes["tenth"]) / max(took["all"] - took["tenth"], 1e-9)
        print(f"| {family} | {took['all']:.1f} s | {took['tenth']:.1f} s | {rate:,.0f} | "
              f"{rate * 3600:,.0f} |")  # fmt: skip


def pipeline_reference(
    predictor: object, texts: list[str], targets: list[str]
) -> dict[str, Callable[[], list[str]]]:
    """``transformers.pipeline`` over the fine-tuned MiniLM (empty without a minilm family)."""
    if predictor is None:
        return {}
    from transformers import pipeline

    model = predictor.model
    classify = pipeline(
        "text-classification",
        model=model.model_,
        tokenizer=model.tokenizer_,
        device=-1,
        truncation=True,
        max_length=model.max_length,
    )
    pairs = [{"text": t, "text_pair": x} for t, x in zip(targets, texts, strict=True)]
    names = model.model_.config.id2label

    def run() -> list[str]:
        out = classify(pairs, batch_size=64)
        by_name = {names[i]: model.classes_[i] for i in range(len(model.classes_))}
        return [by_name.get(o["label"], o["label"]) for o in out]

    return {"transformers.pipeline (minilm, batch 64)": run}


if __name__ == "__main__":
    main()
