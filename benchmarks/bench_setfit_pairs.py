"""SetFit with contrastive pairs drawn within a policy: an experiment, not a model option.

    python benchmarks/bench_setfit_pairs.py -m sweep_name=tweeteval_pairs dataset=tweeteval_stance \
        model=setfit model.body_learning_rate=1e-4 model.max_steps=600 seed=1

`model=setfit` reads each paragraph as "target: text" and setfit pairs paragraphs by label alone,
so "pro Atheism" and "pro Hillary Clinton" count as similar although stance is relative to the
target. Here the contrastive labels are (target, label): similar pairs share both. The head is
still fitted on the labels. Give the runs a `sweep_name` of their own: their overrides do not
say how the pairs were drawn.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import setfit

ROOT = Path(__file__).resolve().parents[1]


class WithinTargetTrainer(setfit.Trainer):
    """setfit's Trainer whose contrastive labels are (the text's "target: " prefix, label)."""

    def train_embeddings(self, x_train, y_train=None, *args, **kwargs):  # type: ignore[override]
        keys = [
            (text.split(": ", 1)[0], label) for text, label in zip(x_train, y_train, strict=True)
        ]
        ids = {key: i for i, key in enumerate(sorted(set(keys)))}
        return super().train_embeddings(x_train, [ids[k] for k in keys], *args, **kwargs)


if __name__ == "__main__":
    setfit.Trainer = WithinTargetTrainer  # SetFitStanceModel.fit imports it from setfit
    sys.argv = [str(ROOT / "scripts" / "train.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
