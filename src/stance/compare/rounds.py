"""Labelling rounds in compare: a section is named by its round and build date, not by hash.

A dataset rebuilt with another round of labels has another fingerprint and test set, so its runs
form a section of their own (never pooled with the earlier round's). The section is titled by the
round its runs' ``run.json`` records (``dataset_round``, ``dataset_built_at``): "round 1 (built
2026-12-07)"; only where two sections of one dataset would read the same is the title widened, by
the build time, then the dataset fingerprint, then the test-set digest. Sections of runs recorded
before rounds were keep their title by hash. Scores across rounds: ``stance.compare.round_scores``.
"""

from __future__ import annotations

from stance import runs
from stance.compare.records import Run, Section


def round_run(section: Section) -> Run | None:
    """The section's earliest-built run that records its dataset round, if any."""
    recorded = [r for c in section.configs for r in c.runs if r.round]
    return min(recorded, key=lambda r: r.built_at or "") if recorded else None


def built(run: Run) -> str:
    """The build time to the minute: ``2026-12-07 10:31``."""
    return (run.built_at or "")[:16].replace("T", " ")


def _titles(section: Section, run: Run) -> list[str]:
    """The section's round title, from the shortest to the most precise."""
    name = str(run.round.get("name") or "round 0")
    day = runs.round_title(run.round, run.built_at)
    minute = f"{name} (built {built(run)})" if run.built_at else name
    data = f"{minute}, dataset {section.fingerprint[:8]}"
    return [day, minute, data, f"{data}, test set {section.test_digest or '?'}"]


def name_sections(sections: list[Section]) -> None:
    """Set ``title`` of every section whose runs record their dataset round, as short as keeps
    it apart from the other sections of the same dataset."""
    by_dataset: dict[str, list[tuple[Section, list[str]]]] = {}
    for section in sections:
        run = round_run(section)
        if run is not None:
            cv = section.fingerprint if section.fingerprint.startswith("kfold") else ""
            titles = [f"{t}\0{cv}" for t in _titles(section, run)]  # K and seed tell CV apart
            by_dataset.setdefault(section.dataset, []).append((section, titles))
    for items in by_dataset.values():
        for section, titles in items:
            level = next(
                (
                    i
                    for i, t in enumerate(titles)
                    if all(o[i] != t for s, o in items if s is not section)
                ),
                len(titles) - 1,
            )
            section.title = titles[level].split("\0")[0]
