"""Does training on another corpus's train rows help? `dataset.auxiliary` on the demo corpus.

    python benchmarks/bench_auxiliary.py [--fractions 0.25 1.0] [--seeds 0 1 2]
        [--auxiliary tweeteval_stance] [--out /tmp/bench_auxiliary] [--processed data/processed]

Two questions, each answered with and without the auxiliary dataset, through ``stance.train``
with the default model (tfidf_logreg) and nothing else changed:

- small data: 5-fold grouped cross-validation of the demo corpus with only ``train_fraction`` of
  each training fold's documents; the score is F_avg over the pooled out-of-fold test predictions
  (every paragraph scored once), and the difference has a paired bootstrap interval over articles;
- unseen policies: ``split.strategy=by_target`` (whole targets held out), one run per split seed
  (each seed holds out other targets); the score is test F_avg.

Validation and test rows are always the demo corpus's own; the auxiliary rows are only trained on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import stance.config_schemas  # noqa: F401  (registers the config schemas)
from stance import runs
from stance.experiment.training import train
from stance.scoring import metrics

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FOLDS = 5


def run(out: Path, overrides: list[str], processed: str) -> tuple[dict, float]:
    """Train one config into ``out`` (reused when complete); its metrics and seconds taken."""
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        common = [f"run_dir={out}", f"paths.processed_root={processed}", "evaluation.bootstrap=0"]
        cfg = compose("train", ["dataset=demo", *common, *overrides])
    start = time.perf_counter()
    result = train(cfg)
    return result, time.perf_counter() - start


def pooled(run_dirs: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Gold, pred (label indices) and article of every out-of-fold test row, in a fixed order."""
    rows = sorted(
        (row for d in run_dirs for row in runs.read_predictions(d, "test")), key=lambda r: r["id"]
    )
    labels = runs.read_run(run_dirs[0])["labels"]
    gold = np.array([labels.index(r["gold"]) for r in rows])
    pred = np.array([labels.index(r["pred"]) for r in rows])
    return gold, pred, np.array([r["doc_id"] for r in rows]), labels


def paired_interval(
    gold: np.ndarray, preds: tuple[np.ndarray, np.ndarray], docs: np.ndarray, metric, n: int = 2000
) -> tuple[float, float]:
    """95% bootstrap interval (resampling articles) of metric(with) - metric(without)."""
    _, doc = np.unique(docs, return_inverse=True)
    rows_of = np.split(np.argsort(doc, kind="stable"), np.cumsum(np.bincount(doc))[:-1])
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(n):
        take = np.concatenate([rows_of[d] for d in rng.integers(0, len(rows_of), len(rows_of))])
        diffs.append(metric(gold[take], preds[1][take]) - metric(gold[take], preds[0][take]))
    low, high = np.quantile(diffs, [0.025, 0.975])
    return float(low), float(high)


def small_data(args: argparse.Namespace) -> list[str]:
    """Table rows: pooled out-of-fold F_avg per train fraction, without and with the auxiliary."""
    lines = []
    for fraction in args.fractions:
        scores, seconds, added = {}, {}, 0
        for aux in ("", args.auxiliary):
            dirs = []
            seconds[aux] = 0.0
            for fold in range(FOLDS):
                out = args.out / f"kfold-frac{fraction}-aux{aux or 'none'}-fold{fold}"
                split = [
                    "dataset.split.strategy=kfold",
                    f"dataset.split.folds={FOLDS}",
                    f"dataset.split.fold={fold}",
                ]
                extra = [f"dataset.train_fraction={fraction}", f"dataset.auxiliary=[{aux}]"]
                seconds[aux] += run(out, [*split, *extra], args.processed)[1]
                dirs.append(out)
                added = added or sum(a["rows"] for a in runs.read_run(out).get("auxiliary", []))
            scores[aux] = pooled(dirs)
        gold, without, docs, labels = scores[""]
        with_aux = scores[args.auxiliary][1]
        assert np.array_equal(gold, scores[args.auxiliary][0])  # the same rows, scored once each
        metric = metrics.batch_metric("f_avg", labels, "neutral")
        a, b = float(metric(gold, without)), float(metric(gold, with_aux))
        low, high = paired_interval(gold, (without, with_aux), docs, metric)
        lines.append(
            f"| {fraction:g} | {len(gold)} | {100 * a:.1f} | {100 * b:.1f} | {100 * (b - a):+.1f} "
            f"[{100 * low:+.1f}, {100 * high:+.1f}] | +{added} | "
            f"{seconds['']:.0f} / {seconds[args.auxiliary]:.0f} |"
        )
        print(lines[-1], flush=True)
    return lines


def unseen_targets(args: argparse.Namespace) -> list[str]:
    """Table rows: test F_avg on held-out targets per split seed, without and with the auxiliary."""
    lines = []
    for seed in args.seeds:
        scores, seconds = {}, {}
        for aux in ("", args.auxiliary):
            out = args.out / f"by_target-seed{seed}-aux{aux or 'none'}"
            split = ["dataset.split.strategy=by_target", f"dataset.split.seed={seed}"]
            split.append(f"dataset.auxiliary=[{aux}]")
            scores[aux], seconds[aux] = run(out, split, args.processed)
        test_targets = sorted({r["target"] for r in runs.read_predictions(out, "test")})
        a, b = scores[""]["test/f_avg"], scores[args.auxiliary]["test/f_avg"]
        lines.append(
            f"| {seed} | {', '.join(test_targets)} | {100 * a:.1f} | {100 * b:.1f} | "
            f"{100 * (b - a):+.1f} | {seconds['']:.0f} / {seconds[args.auxiliary]:.0f} |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    """Run both comparisons and print their tables (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="*", default=[0.25, 1.0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="by_target")
    parser.add_argument("--auxiliary", default="tweeteval_stance", help="a dataset config name")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_auxiliary"))
    parser.add_argument("--processed", default="data/processed", help="paths.processed_root")
    args = parser.parse_args()

    head = "| train fraction | rows scored | F_avg without | F_avg with | difference [95% CI] |"
    print(f"\n{head} auxiliary rows | seconds (5 folds) without / with |")
    print("|---|---|---|---|---|---|---|")
    small = small_data(args)
    head = "| split seed | held-out test targets | F_avg without | F_avg with | difference |"
    print(f"\n{head} seconds without / with |\n|---|---|---|---|---|---|")
    unseen = unseen_targets(args)
    print("\n" + "\n".join(small) + "\n\n" + "\n".join(unseen))
    # every run must have trained the same model: a config edited mid-benchmark would show here
    models = {
        json.dumps(OmegaConf.to_container(runs.read_config(d).model)) for d in args.out.iterdir()
    }
    print(
        f"\nmodel (every run): {models.pop()}" if len(models) == 1 else f"\nMODELS DIFFER: {models}"
    )


if __name__ == "__main__":
    main()
