"""What every report is made of: a self-contained HTML page in the house style, a figure as an
inline PNG, a Markdown table and the confusion-matrix figure (run page, compare, annotation).

Only the standard library at import: the plotting stack is imported inside `confusion_figure`,
so the annotation tool and compare's Markdown import this module without matplotlib.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

# The look every page shares; a page appends its own rules (``style``) after it.
BASE_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ddd;padding:3px 8px}"
    "th{background:#f3f3f3;text-align:left}.muted{color:#777}"
)


def html_page(title: str, body_parts: Iterable[str], style: str = "") -> str:
    """A whole page that opens offline: ``BASE_STYLE`` then ``style``, the parts in order."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{BASE_STYLE}{style}</style></head><body>{''.join(body_parts)}</body></html>"
    )


def inline_png(data: bytes, alt: str) -> str:
    """PNG bytes as an ``<img>`` that needs no other file (base64 data URL)."""
    encoded = base64.b64encode(data).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def figure_png(fig: Any, dpi: int, **savefig: Any) -> bytes:
    """A matplotlib figure as PNG bytes (``savefig`` options: ``bbox_inches``...), then closed."""
    import matplotlib.pyplot as plt  # only a caller that already has a figure gets here

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **savefig)
    plt.close(fig)
    return buf.getvalue()


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub Markdown table (each cell as ``str`` gives it), its lines joined by newlines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def confusion_figure(
    gold: Sequence[int],
    pred: Sequence[int],
    classes: Sequence[str],
    title: str,
    figsize: tuple[float, float] = (4, 3.6),
) -> Any:
    """A matplotlib figure of the confusion matrix (rows gold, columns predicted, class indices
    ``0..len(classes)-1``); `figure_png` saves and closes it."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers and in tests
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=figsize)
    ConfusionMatrixDisplay.from_predictions(
        gold,
        pred,
        labels=list(range(len(classes))),
        display_labels=list(classes),
        ax=ax,
        colorbar=False,
    )
    ax.set_title(title)
    return fig
