"""Generated blocks in the project's pages: the text between `<!-- generated: NAME -->` and
`<!-- /generated: NAME -->`, which one script in docs/ writes and a test compares with what that
script would write now (architecture.py, hyperparameters.py, figures.py)."""

from __future__ import annotations

from pathlib import Path


def wrap(name: str, lines: list[str]) -> str:
    """``lines`` between the block's two markers, joined by newlines."""
    return "\n".join([f"<!-- generated: {name} -->", *lines, f"<!-- /generated: {name} -->"])


def current(page: Path, name: str) -> str:
    """The block ``name`` as it stands in ``page``, markers included."""
    text = page.read_text()
    begin, end = f"<!-- generated: {name} -->", f"<!-- /generated: {name} -->"
    if begin not in text or end not in text:
        raise ValueError(f"{page}: no block {begin} ... {end}; add the two markers first")
    return text[text.index(begin) : text.index(end) + len(end)]


def write(page: Path, name: str, block: str) -> None:
    """Put ``block`` (from `wrap`) in place of the block ``name`` in ``page``."""
    page.write_text(page.read_text().replace(current(page, name), block))
