"""The report building blocks every page shares (stance.pages)."""

from __future__ import annotations

import subprocess
import sys

from stance import pages


def test_a_markdown_table_is_githubs_with_cells_as_str() -> None:
    table = pages.markdown_table(["id", "n"], [["a", 1], ["b", 2.5]])
    assert table == "| id | n |\n|---|---|\n| a | 1 |\n| b | 2.5 |"


def test_a_page_has_the_base_style_then_its_own_and_escapes_the_title() -> None:
    page = pages.html_page("a < b", ["<p>x</p>", "<p>y</p>"], "tr.best{font-weight:600}")
    assert "<title>a &lt; b</title>" in page
    assert f"<style>{pages.BASE_STYLE}tr.best{{font-weight:600}}</style>" in page
    assert page.endswith("<body><p>x</p><p>y</p></body></html>")


def test_the_confusion_figure_counts_gold_by_predicted() -> None:
    fig = pages.confusion_figure([0, 0, 1, 2], [0, 1, 1, 1], ["anti", "neutral", "pro"], "t")
    (ax,) = fig.axes
    shown = [t.get_text() for t in ax.texts]  # row-major: rows gold, columns predicted
    assert shown == ["1", "1", "0", "0", "1", "0", "0", "1", "0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["anti", "neutral", "pro"]
    assert ax.get_title() == "t"
    png = pages.figure_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")
    assert pages.inline_png(png, "x").startswith('<img alt="x" src="data:image/png;base64,iVBOR')


def test_importing_pages_loads_no_plotting_stack() -> None:
    code = "import sys, stance.pages; print('matplotlib' in sys.modules, 'sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
