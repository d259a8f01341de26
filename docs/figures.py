"""Copy the README's tables of measured figures from their results files: `python docs/figures.py`.

A measured figure lives in one place, the benchmarks/results/ file that says how it was taken. The
README links to it; where it shows a table, the table is a copy: the first Markdown table after a
heading of that file, between `<!-- generated: figure NAME -->` markers, with a line naming its
source. tests/test_figures.py fails when a copy differs from its source.
"""

from __future__ import annotations

import sys
from pathlib import Path

from page_blocks import current, wrap, write

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# block name -> (results file under the repository root, the start of the heading the table follows)
FIGURES = {
    "throughput": ("benchmarks/results/bench_throughput.md", "## Run 2"),
    "throughput_end_to_end": ("benchmarks/results/bench_throughput.md", "## Run 3"),
    "tweeteval": ("benchmarks/results/tweeteval.md", "## Results"),
    "demo_cv_families": ("benchmarks/results/demo_cv_families.md", "### Added later"),
}


def table_after(text: str, heading: str, where: str) -> tuple[str, list[str]]:
    """The heading line that starts with ``heading`` and the first table after it (its lines)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        raise ValueError(f"{where}: no heading starting with {heading!r}")
    first = next((i for i in range(start, len(lines)) if lines[i].startswith("|")), None)
    if first is None:
        raise ValueError(f"{where}: no table after {lines[start]!r}")
    last = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start], lines[first:last]


def figure_block(name: str, figures: dict = FIGURES, root: Path = ROOT) -> str:
    """The README block ``name``: its source's table and a line linking to that source."""
    path, heading = figures[name]
    title, table = table_after((root / path).read_text(), heading, path)
    section = title.lstrip("#").strip()
    return wrap(f"figure {name}", [*table, "", f'From [`{path}`]({path}), section "{section}".'])


def stale(page: Path = README, figures: dict = FIGURES, root: Path = ROOT) -> list[str]:
    """The names of the blocks in ``page`` that differ from their source now."""
    return [n for n in figures if current(page, f"figure {n}") != figure_block(n, figures, root)]


def main() -> None:
    for name in FIGURES:
        write(README, f"figure {name}", figure_block(name))
    print(f"wrote {len(FIGURES)} figure blocks of {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
