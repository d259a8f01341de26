"""What compare ranks by and what it ranks: the runs' own headline metric, interrupted runs apart.

A run records its dataset's headline metric (``dataset.metric``) in ``run.json``; a run from
before that record is F_avg. Runs that record different metrics are never ranked together by
default: compare refuses and names the ones that differ. Runs stopped by SIGTERM or Ctrl-C
(status ``interrupted``, resumable) are never ranked: they are listed apart, or only counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from stance.compare.records import NO_RECORD, Run, Section
from stance.errors import StanceError, problem
from stance.scoring.metrics import BATCH_METRICS, HEADLINE

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted"
TESTS = ("paired_bootstrap", "mcnemar")


def check(cfg: Any) -> None:
    """Reject CompareConfig values compare cannot use, naming the key (a null headline waits for
    ``resolve_headline``)."""
    if cfg.test not in TESTS:
        raise StanceError(
            problem(
                "configs/compare.yaml: test", f"unknown test {cfg.test!r}", f"use one of {TESTS}"
            )
        )
    if cfg.headline is None:
        return
    if cfg.headline.count("/") != 1 or cfg.headline.split("/")[1] not in BATCH_METRICS:
        raise StanceError(
            problem(
                "configs/compare.yaml: headline",
                f"{cfg.headline!r} cannot be recomputed from predictions",
                f"use <split>/<metric> with metric one of {', '.join(BATCH_METRICS)}",
            )
        )
    if cfg.headline not in cfg.metrics:
        raise StanceError(
            problem(
                "configs/compare.yaml: headline",
                f"{cfg.headline!r} is not among metrics {list(cfg.metrics)}",
                "add it to metrics",
            )
        )


def ranked_by(cfg: Any, sections: Sequence[Any]) -> Any:
    """``cfg`` with the headline compare() ranked ``sections`` by when the config left it null."""
    if cfg.headline is not None:
        return cfg
    return replace(cfg, headline=next((st.headline for st in sections if st.headline), None))


def recorded_metric(run: Run) -> str | None:
    """The headline metric a run's record names (F_avg before runs recorded one); None for a
    folder without a record."""
    return None if run.status == NO_RECORD else run.metric or HEADLINE


def resolve_headline(headline: str | None, runs: Sequence[Run], split: str = "test") -> str:
    """``headline`` when given (said when it is not the runs' own metric), else
    ``<split>/<metric>`` with the one metric the runs record; refuses runs that record several."""
    by_metric: dict[str, set[str]] = {}
    for run in runs:
        metric = recorded_metric(run)
        if metric is not None:
            by_metric.setdefault(metric, set()).add(run.dataset)
    if headline is not None:
        own = sorted(set(by_metric) - {headline.rsplit("/", 1)[-1]})
        if own:
            log.warning("ranking by %s, not by the runs' own metric %s", headline, ", ".join(own))
        return headline
    if len(by_metric) > 1:
        seen = "; ".join(f"{m}: {', '.join(sorted(d))}" for m, d in sorted(by_metric.items()))
        raise StanceError(
            problem(
                "compare: headline",
                f"the runs record different headline metrics ({seen}), so they cannot be "
                "ranked by one without saying so",
                "compare each dataset on its own (+where.dataset.name=NAME), or rank them all "
                "by one metric: headline=test/f1_macro",
            )
        )
    return f"{split}/{next(iter(by_metric), HEADLINE)}"


def without_interrupted(section: Section) -> tuple[Section, list[Run]]:
    """The section without its interrupted runs (a config left with none is dropped), and them."""
    held = [r for c in section.configs for r in c.runs if r.status == INTERRUPTED]
    if not held:
        return section, []
    configs = []
    for config in section.configs:
        kept = [r for r in config.runs if r.status != INTERRUPTED]
        if kept:
            configs.append(replace(config, runs=kept))
    return replace(section, configs=configs), held


def ranked(section: Section) -> bool:
    """False (and said in the log) for a section whose every run is interrupted: nothing to rank."""
    if any(r.status != INTERRUPTED for c in section.configs for r in c.runs):
        return True
    paths = ", ".join(str(r.path) for c in section.configs for r in c.runs)
    log.warning("%s: only interrupted runs, left out (rerun to resume): %s", section.dataset, paths)
    return False


def interrupted_lines(held: Sequence[Run], include: bool) -> list[str]:
    """The report's lines about a section's interrupted runs: each listed (``include``) or a
    count. They are never ranked: the same command resumes them."""
    if not held:
        return []
    if not include:
        runs = f"{len(held)} interrupted run{'s' * (len(held) != 1)}"
        return [f"{runs} left out (include_interrupted=true lists them)."]
    return [
        "Interrupted runs (stopped by SIGTERM or Ctrl-C; the same command resumes them; not "
        "ranked):",
        *(f"- `{r.path}`" for r in held),
    ]
