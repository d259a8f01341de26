"""The model folder's README.md: what a reader of a saved model needs to know and to reuse it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from stance import runs
from stance.pages import markdown_table
from stance.scoring.metrics import BATCH_METRICS, HEADLINE


def model_card(
    info: Mapping[str, Any],
    cfg: DictConfig,
    metrics: Mapping[str, float],
    policies: Sequence[str] = (),
) -> str:
    """The model folder's ``README.md``: data and fingerprint, config, metrics, commit, versions,
    and ``policies``: which targets got their own classifier and which share
    (``stance.models.targets.target_report(model)``)."""
    libraries = info.get("libraries") or runs.library_versions()
    data_round = runs.round_title(info.get("dataset_round"), info.get("dataset_built_at"))
    lines = [
        f"# Stance model `{info.get('model')}` on `{info.get('dataset')}`",
        "",
        f"- dataset: `{info.get('dataset')}`, fingerprint `{info.get('dataset_fingerprint')}`",
        f"- labelling round: {data_round}",
        f"- labels: {', '.join(info.get('labels', []))}",
        f"- headline metric: {info.get('metric') or HEADLINE} (`dataset.metric`)",
        f"- seed: {info.get('seed')}",
        f"- git commit: `{info.get('git_commit') or runs.git_commit()}`",
        f"- trained: {runs.now()}",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in libraries.items()),
        "",
        "Load it with `stance.load_model(<this folder>)`; label new text with "
        "`python scripts/predict.py model=<this folder> input=FILE`.",
        "",
        "## Metrics",
        "",
    ]
    metric = info.get("metric") or HEADLINE  # the dataset's headline metric, first
    names = [metric, f"{metric}_ci_low", f"{metric}_ci_high", *BATCH_METRICS]
    names += [f"{HEADLINE}_ci_low", f"{HEADLINE}_ci_high", "roc_auc", "ece"]
    keys = [f"{split}/{name}" for split in ("validation", "test") for name in dict.fromkeys(names)]
    rows = [(key, f"{metrics[key]:.4f}") for key in keys if key in metrics]
    lines.append(markdown_table(["metric", "value"], rows))
    if policies:
        lines += ["", "## Policies (targets)", "", *(f"- {line}" for line in policies)]
    lines += ["", "## Config", "", "```yaml", OmegaConf.to_yaml(cfg, resolve=True).rstrip(), "```"]
    return "\n".join(lines) + "\n"
