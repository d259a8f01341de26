"""The README's measured figures: tables copied from their results files, links that resolve."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
try:
    import figures
    from page_blocks import write
finally:
    sys.path.remove(str(ROOT / "docs"))

RESULTS = "# Bench\n\n## Run 1 (idle)\n\n| model | s |\n|---|---|\n| a | 1.0 |\n\nReading.\n"


def test_the_readmes_figure_tables_are_copies_of_their_results_files() -> None:
    assert figures.stale() == [], "run: python docs/figures.py"


def test_a_changed_figure_in_a_results_file_makes_the_readmes_copy_stale(tmp_path: Path) -> None:
    (tmp_path / "bench.md").write_text(RESULTS)
    spec = {"speed": ("bench.md", "## Run 1")}
    page = tmp_path / "README.md"
    page.write_text("Intro\n<!-- generated: figure speed -->\n<!-- /generated: figure speed -->\n")
    assert figures.stale(page, spec, tmp_path) == ["speed"]
    write(page, "figure speed", figures.figure_block("speed", spec, tmp_path))
    assert figures.stale(page, spec, tmp_path) == []
    copied = '| a | 1.0 |\n\nFrom [`bench.md`](bench.md), section "Run 1 (idle)".\n<!-- /gen'
    assert copied in page.read_text()
    (tmp_path / "bench.md").write_text(RESULTS.replace("1.0", "1.5"))
    assert figures.stale(page, spec, tmp_path) == ["speed"]
    with pytest.raises(ValueError, match="no heading starting with '## Run 2'"):
        figures.figure_block("speed", {"speed": ("bench.md", "## Run 2")}, tmp_path)


def test_every_results_file_the_readme_and_configs_name_exists() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "configs").rglob("*.yaml"))]
    named = {n for p in texts for n in re.findall(r"benchmarks/[\w./-]*\w\.md", p.read_text())}
    missing = sorted(n for n in named if not (ROOT / n).is_file())
    assert named and not missing
