"""Training and prediction throughput of the TF-IDF baselines vs the bare scikit-learn pipeline.

    python benchmarks/bench_baseline.py [--n 100000] [--classifier logreg] [--repeat 1]

Both sides get the same paragraphs, the same features (word 1-2 + char_wb 2-5 TF-IDF) and the same
classifier settings, in the same process; the ratio ``ours / bare`` is our wrapper's overhead
(Dataset handling, label mapping, probability reordering). Paragraphs are synthetic but
realistic: sentences of the demo corpus (data/raw) reshuffled into new paragraphs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, Features, Value
from sklearn.pipeline import make_pipeline

from stance.models.sklearn_models import TfidfStanceModel

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["pro", "anti"]


def corpus(n: int, seed: int = 0) -> Dataset:
    """``n`` paragraphs of 3-6 sentences drawn from demo-corpus sentences of the same label."""
    by_label: dict[int, list[str]] = {0: [], 1: []}
    for path in sorted((ROOT / "data" / "raw").rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("label") in LABELS:
                sentences = [s.strip() + "." for s in row["text"].split(". ") if s.strip()]
                by_label[LABELS.index(row["label"])].extend(sentences)
    if not by_label[0] or not by_label[1]:
        raise SystemExit("no labelled paragraphs under data/raw/")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    texts = []
    for label in labels:
        pool = by_label[int(label)]
        texts.append(" ".join(pool[i] for i in rng.integers(0, len(pool), size=rng.integers(3, 7))))
    features = Features(text=Value("string"), label=ClassLabel(names=LABELS))
    return Dataset.from_dict({"text": texts, "label": labels.tolist()}, features=features)


def timed(fn) -> float:
    """Seconds ``fn()`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Time bare sklearn and our model on the same data; print seconds, throughput and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="paragraphs to train and predict")
    parser.add_argument("--classifier", default="logreg", choices=["logreg", "svm"])
    parser.add_argument("--repeat", type=int, default=1, help="best of this many timings")
    args = parser.parse_args()

    data = corpus(args.n)
    texts, y = list(data["text"]), np.asarray(data["label"])
    ours = TfidfStanceModel(classifier=args.classifier, target_mode="none")
    bare = make_pipeline(ours.build_features(), ours.build_classifier(y))

    # Interleaved: on a shared machine the load drifts over minutes, so the two sides of each
    # ratio are timed back to back.
    steps = {
        "fit": {"bare sklearn": lambda: bare.fit(texts, y), "stance": lambda: ours.fit(data)},
        "predict": {
            "bare sklearn": lambda: bare.predict_proba(texts),
            "stance": lambda: ours.predict_proba(texts),
        },
    }
    best: dict[tuple[str, str], float] = {}
    for round_ in range(args.repeat):
        for step, sides in steps.items():
            # Who goes first alternates between rounds: the first side pays for heap growth.
            order = list(sides.items())[:: 1 if round_ % 2 == 0 else -1]
            for name, fn in order:
                best[step, name] = min(best.get((step, name), float("inf")), timed(fn))
    results = {name: (best["fit", name], best["predict", name]) for name in steps["fit"]}
    print(
        f"n={args.n} paragraphs, classifier={args.classifier}, mean length "
        f"{np.mean([len(t) for t in texts]):.0f} chars, best of {args.repeat}"
    )
    print("| pipeline | fit s | fit paragraphs/s | predict s | predict paragraphs/s |")
    print("|---|---|---|---|---|")
    for name, (fit_s, predict_s) in results.items():
        print(
            f"| {name} | {fit_s:.1f} | {args.n / fit_s:,.0f} | {predict_s:.1f} | "
            f"{args.n / predict_s:,.0f} |"
        )
    (bare_fit, bare_pred), (our_fit, our_pred) = results["bare sklearn"], results["stance"]
    print(f"ratio stance / bare: fit {our_fit / bare_fit:.3f}, predict {our_pred / bare_pred:.3f}")


if __name__ == "__main__":
    main()
