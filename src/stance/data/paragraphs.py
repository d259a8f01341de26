"""Split raw article text into paragraphs (used to build datasets and to label whole articles)."""

from __future__ import annotations

import re
from itertools import pairwise

_BLANK = re.compile(r"\n[ \t\f\v]*\n\s*")
# a sentence ends with . ! ? … or : followed by closing quotes/brackets
_ENDS = re.compile(r"[.!?…:][\"'”’»)\]]*$")
_CAPTION = re.compile(
    r"^\(?(photo|image|picture|caption|credit|video|graphic|illustration|file photo|pictured)s?"
    r"\b\s*(:|by\b|credit|courtesy|/|\||-|—)",
    re.IGNORECASE,
)
_SHORT = 0.6  # of the block's width: a shorter unpunctuated line is a heading, byline or caption
# a full stop after these does not end a sentence
_ABBREVIATIONS = re.compile(
    r"(\b(mr|mrs|ms|dr|sen|rep|gov|gen|col|lt|sgt|st|jr|sr|no|vs|inc|corp|co|ltd|jan|feb|mar|apr"
    r"|jun|jul|aug|sep|sept|oct|nov|dec)|\b[a-z]\.[a-z])\.$",
    re.IGNORECASE,
)


def _ends(line: str) -> bool:
    """Does the line end a sentence (and not with an abbreviation like "Mr." or "U.S.")?"""
    return bool(_ENDS.search(line)) and not _ABBREVIATIONS.search(line)


def _joins(prev: str, line: str, width: int) -> bool:
    """Does `line` continue the paragraph that `prev` is in?"""
    if _CAPTION.match(prev) or _CAPTION.match(line):
        return False
    if prev.endswith("-") and not prev.endswith(" -"):
        return True
    if line[:1].islower() or _ABBREVIATIONS.search(prev):
        return True
    if _ends(prev):
        return False
    return len(prev) >= _SHORT * width or not line[:1].isupper()


def _block(lines: list[str]) -> list[str]:
    lines = [ln.strip() for ln in lines]
    width = max(len(ln) for ln in lines)
    paragraphs = [lines[0]]
    for prev, line in pairwise(lines):
        if not _joins(prev, line, width):
            paragraphs.append(line)
        elif prev.endswith("-") and not prev.endswith(" -"):
            paragraphs[-1] += line
        else:
            paragraphs[-1] += " " + line
    return paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Split an article into paragraphs, rejoining hard-wrapped lines.

    Heuristics, in order, for each pair of consecutive lines within a blank-line-free block:
    - Blank lines (only whitespace) always separate paragraphs.
    - Captions (a line starting "Photo:", "Image by", "Credit:", "(Photo ...") stand alone.
    - A line ending in a hyphen joins the next without a space (the hyphen stays); a next line
      starting lower-case, or a line ending in an abbreviation ("Mr.", "U.S."), continues it.
    - A line that ends a sentence (. ! ? … : possibly followed by closing quotes or brackets, and
      not an abbreviation like "Mr." or "U.S.") ends the paragraph: so a one-line quote between
      sentences stays its own paragraph.
    - A line without final punctuation continues into the next line (a hard wrap mid-sentence),
      unless it is short (under 60% of the block's longest line) and the next line starts
      upper-case: then it is a heading, byline or caption.
    Known limit: a hard-wrapped paragraph whose line happens to break right after a full stop is
    split there. Paragraphs come back stripped, in order; whitespace inside a line is kept.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    out: list[str] = []
    for block in _BLANK.split(text.strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if lines:
            out.extend(_block(lines))
    return out
