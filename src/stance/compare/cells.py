"""How compare writes a number, an interval and a table: one format for every report part."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd


def fmt(value: float, scale: float) -> str:
    """A metric value for the tables: x100 with one decimal, or raw with three; "–" for none."""
    return "–" if pd.isna(value) else f"{value * scale:.{1 if scale == 100 else 3}f}"


def interval(low: float, high: float, scale: float) -> str:
    """An interval for the tables."""
    return "–" if pd.isna(low) else f"[{fmt(low, scale)}, {fmt(high, scale)}]"


def html_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table, every cell escaped."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
