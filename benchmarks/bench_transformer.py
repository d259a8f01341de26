"""Time the transformer family against plain Hugging Face usage, on the same texts, in one run.

    python benchmarks/bench_transformer.py                  # demo corpus, packaged MiniLM
    python benchmarks/bench_transformer.py --texts 100 --train-examples 48 --repeats 1  # quicker

1. Training: ``TransformerStanceModel.fit`` (tokenisation, length-grouped batches, weighted
   loss, Trainer) vs a plain ``Trainer`` on the same model, examples, batch size, steps and
   learning rate (tokenised with ``Dataset.map``, default collator). Ratio = plain / ours seconds
   (>= 1: ours is no slower).
2. Inference: ``load_model(folder).predict`` vs ``transformers.pipeline("text-classification")``
   on the model just trained, same (target, text) pairs, all within one window so both see the same
   tokens. Ratio = our throughput / pipeline throughput; the labels must be identical.

Sides alternate and each keeps its fastest repeat, because the machine is shared.
Results go in benchmarks/results/bench_transformer.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from datasets import Dataset
from hydra import compose, initialize_config_dir

from stance.data import ensure_dataset
from stance.models.transformer.model import (
    PACKAGED_MINILM,
    TransformerStanceModel,
    resolve_pretrained,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def demo_splits() -> tuple[Dataset, Dataset]:
    """The demo corpus (built if missing): train split and all paragraphs for inference."""
    import stance.config_schemas
    import stance.runs  # noqa: F401  (schemas and resolvers of the train config)

    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["run_dir=unused"])
    data = ensure_dataset(cfg.dataset, cfg.paths.processed_root)
    from datasets import concatenate_datasets

    return data["train"], concatenate_datasets([data[s] for s in ("test", "validation", "train")])


def timed(fn: Callable[[], object], seconds: list[float]) -> object:
    """Run ``fn``, append its wall time in seconds to ``seconds``, return its result."""
    start = time.perf_counter()
    result = fn()
    seconds.append(time.perf_counter() - start)
    return result


def train_ours(train: Dataset, args: argparse.Namespace) -> TransformerStanceModel:
    """Our fit, no validation and no checkpoint inside the timed steps."""
    model = TransformerStanceModel(
        max_steps=args.train_steps,
        batch_size=args.batch_size,
        learning_rate=1e-4,
        save_steps=10**6,
        logging_steps=10**6,
        progress_bar=False,
        early_stopping_patience=None,
        class_weight=None,
    )
    return model.fit(train)


def train_plain(train: Dataset, args: argparse.Namespace) -> None:
    """The Trainer as its documentation shows it: map-tokenised pairs, default collator."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(0)
    source = resolve_pretrained(PACKAGED_MINILM)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=train.features["label"].num_classes, local_files_only=True
    )
    tokens = train.map(
        lambda b: tokenizer(b["target"], b["text"], truncation=True, max_length=256),
        batched=True,
        remove_columns=[c for c in train.column_names if c != "label"],
    )
    with tempfile.TemporaryDirectory() as out:
        training = TrainingArguments(
            output_dir=out,
            max_steps=args.train_steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=1e-4,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            logging_steps=10**6,
            seed=0,
        )
        trainer = Trainer(model, training, train_dataset=tokens, processing_class=tokenizer)
        trainer.train()


def main() -> None:
    """Run both comparisons and print a Markdown table of the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200, help="paragraphs to label")
    parser.add_argument("--train-examples", type=int, default=96)
    parser.add_argument(
        "--train-steps", type=int, default=0, help="optimizer steps per fit; 0: one epoch"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2, help="alternating repeats per side")
    args = parser.parse_args()

    from transformers import pipeline

    train, everything = demo_splits()
    train = train.select(range(min(args.train_examples, len(train))))
    # A whole epoch, so both sides see the same examples whatever order they draw them in.
    args.train_steps = args.train_steps or -(-len(train) // args.batch_size)
    ours_s: list[float] = []
    plain_s: list[float] = []
    for _ in range(args.repeats):
        model = timed(lambda: train_ours(train, args), ours_s)
        timed(lambda: train_plain(train, args), plain_s)

    tokenizer = model.tokenizer_
    fits = [
        i
        for i, (t, x) in enumerate(zip(everything["target"], everything["text"], strict=True))
        if len(tokenizer(t, x)["input_ids"]) <= model.max_length
    ][: args.texts]
    texts = [everything["text"][i] for i in fits]
    targets = [everything["target"][i] for i in fits]
    pairs = [{"text": t, "text_pair": x} for t, x in zip(targets, texts, strict=True)]

    with tempfile.TemporaryDirectory() as folder:
        model.save(folder)
        from stance import load_model

        predictor = load_model(folder)
        classify = pipeline("text-classification", model=folder, device="cpu")
        predictor.predict(texts[:8], targets[:8])  # warm-up, untimed
        classify(pairs[:8])
        times: dict[str, list[float]] = {"ours": [], "pipeline": [], "pipeline64": []}
        for _ in range(args.repeats):
            ours = timed(lambda: list(predictor.predict(texts, targets)), times["ours"])
            theirs = timed(lambda: classify(pairs), times["pipeline"])
            batched = timed(lambda: classify(pairs, batch_size=64), times["pipeline64"])

    same = sum(a == b["label"] for a, b in zip(ours, theirs, strict=True))
    same64 = sum(a == b["label"] for a, b in zip(ours, batched, strict=True))
    best = {k: min(v) for k, v in times.items()}
    n = len(texts)
    print("| measurement | ours | reference | ratio |\n|---|---|---|---|")
    print(
        f"| training: {args.train_steps} steps x {args.batch_size} pairs, s "
        f"| {min(ours_s):.1f} | {min(plain_s):.1f} (plain Trainer) "
        f"| {min(plain_s) / min(ours_s):.2f}x |"
    )
    print(
        f"| inference: {n} pairs, texts/s | {n / best['ours']:.1f} "
        f"| {n / best['pipeline']:.1f} (pipeline, default batch) "
        f"| {best['pipeline'] / best['ours']:.2f}x |"
    )
    print(
        f"| inference: {n} pairs, texts/s | {n / best['ours']:.1f} "
        f"| {n / best['pipeline64']:.1f} (pipeline, batch_size=64) "
        f"| {best['pipeline64'] / best['ours']:.2f}x |"
    )
    print(f"\nidentical labels: {same}/{n} vs pipeline, {same64}/{n} vs batched pipeline")
    print(f"all timings (s): train ours {ours_s}, plain {plain_s}, inference {times}")


if __name__ == "__main__":
    main()
