"""Split raw article text into paragraphs (used to build datasets and to label whole articles)."""

from __future__ import annotations

import re
from itertools import pairwise

from stance.data.furniture import stands_alone

_BLANK = re.compile(r"\n[ \t\f\v]*\n\s*")
# a sentence ends with . ! ? … or : followed by closing quotes/brackets
_ENDS = re.compile(r"[.!?…:][\"'”’»)\]]*$")
_CAPTION = re.compile(
    r"^\(?(photo|image|picture|caption|credit|video|graphic|illustration|file photo|pictured)s?"
    r"\b\s*(:|by\b|credit|courtesy|/|\||-|—)",
    re.IGNORECASE,
)
_SHORT = 0.6  # of the block's width: a shorter unpunctuated line is a heading, byline or caption
_FULL = 0.8  # of the wrap column: a line at least this long may have been broken by the wrap
_FURNITURE_CHARS = 200  # a longer line is never split off as page furniture (stands_alone)
# a whole quoted sentence on its own line
_QUOTE = re.compile(r"^[\"'“‘«].*[.!?…][\"'”’»]$")
# a full stop after these does not end a sentence
_ABBREVIATIONS = re.compile(
    r"(\b(mr|mrs|ms|dr|sen|rep|gov|gen|col|lt|sgt|st|jr|sr|no|vs|inc|corp|co|ltd|jan|feb|mar|apr"
    r"|jun|jul|aug|sep|sept|oct|nov|dec)|\b[a-z]\.[a-z])\.$",
    re.IGNORECASE,
)


def _ends(line: str) -> bool:
    """Does the line end a sentence (and not with an abbreviation like "Mr." or "U.S.")?"""
    return bool(_ENDS.search(line)) and not _ABBREVIATIONS.search(line)


def _hyphenated(line: str) -> bool:
    """Does the line end in a word broken by a hyphen ("policy-" but not a dash " -")?"""
    return line.endswith("-") and not line.endswith(" -")


def _quote(line: str, column: int) -> bool:
    """Is the line a short one-line quote (a whole quoted sentence)?"""
    return bool(_QUOTE.match(line)) and len(line) < _SHORT * column


def _broken_on_purpose(prev: str, line: str, column: int) -> bool:
    """Does `prev` end a sentence with room left for the next word, before body text?"""
    if not _ends(prev) or line[:1].islower() or any(_CAPTION.match(x) for x in (prev, line)):
        return False
    if _quote(prev, column) or _quote(line, column):
        return False
    return len(prev) + 1 + len(line.split()[0]) <= column


def _wrap_column(lines: list[str]) -> int | None:
    """The column of a block that is one hard-wrapped paragraph (its longest line), or None.

    Hard-wrapped: at least two lines reach 80% of that column and one of them (not the last) breaks
    mid-sentence; captions, often pasted in unwrapped, are left out. One paragraph: no line ends a
    sentence where the next word would still have fitted (a greedy wrapper never breaks there, so
    that break was made on purpose: the block holds paragraphs separated by single line breaks).
    """
    body = [ln for ln in lines if not _CAPTION.match(ln)]
    column = max((len(ln) for ln in body), default=0)
    full = [len(ln) >= _FULL * column for ln in body]
    mid_sentence = [not _ends(ln) for ln in body[:-1]] + [False]
    if sum(full) < 2 or not any(f and m for f, m in zip(full, mid_sentence, strict=True)):
        return None
    if any(_broken_on_purpose(prev, line, column) for prev, line in pairwise(lines)):
        return None
    return column


def _joins(prev: str, line: str, width: int, column: int | None) -> bool:
    """Does `line` continue the paragraph that `prev` is in?

    `column` is the wrap column of a block that is one hard-wrapped paragraph, else None.
    """
    if _CAPTION.match(prev) or _CAPTION.match(line):
        return False
    if _hyphenated(prev):
        return True
    if line[:1].islower() or _ABBREVIATIONS.search(prev):
        return True
    if _ends(prev):
        return column is not None and not (_quote(prev, column) or _quote(line, column))
    return len(prev) >= _SHORT * width or not line[:1].isupper()


def _block(lines: list[str]) -> list[str]:
    lines = [ln.strip() for ln in lines]
    width = max(len(ln) for ln in lines)
    column = _wrap_column(lines)
    alone = [len(ln) <= _FURNITURE_CHARS and stands_alone(ln) for ln in lines]
    paragraphs = [lines[0]]
    for (prev, line), apart in zip(pairwise(lines), pairwise(alone), strict=False):
        if any(apart) or not _joins(prev, line, width, column):
            paragraphs.append(line)
        elif _hyphenated(prev):
            paragraphs[-1] += line
        else:
            paragraphs[-1] += " " + line
    return paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Split an article into paragraphs, rejoining hard-wrapped lines.

    Heuristics, in order, for each pair of consecutive lines within a blank-line-free block:
    - Blank lines (only whitespace) always separate paragraphs.
    - Captions (a line starting "Photo:", "Image by", "Credit:", "(Photo ...") stand alone, and
      so does a line that starts upper-case and is page furniture by ``stance.data.furniture``
      (``stands_alone``: a byline, a dateline or a date, a share/subscribe/newsletter line, a
      short credit).
    - A line ending in a hyphen joins the next without a space (the hyphen stays); a next line
      starting lower-case, or a line ending in an abbreviation ("Mr.", "U.S."), continues it.
    - A line that ends a sentence (. ! ? … : possibly followed by closing quotes or brackets, and
      not an abbreviation like "Mr." or "U.S.") ends the paragraph: so a one-line quote between
      sentences stays its own paragraph. Except in a block that is one hard-wrapped paragraph:
      at least two lines reach 80% of its wrap column (its longest line, captions aside), one of
      them breaking mid-sentence, and no line ends a sentence where the next line's first word
      would still have fitted (a greedy wrapper never breaks there; a writer who does separates
      paragraphs by single line breaks). There a line ending a sentence is a wrap and continues,
      unless it or the next line is a short one-line quote (a whole quoted sentence under 60% of
      the column).
    - A line without final punctuation continues into the next line (a hard wrap mid-sentence),
      unless it is short (under 60% of the block's longest line) and the next line starts
      upper-case: then it is a heading, byline or caption.
    Known limits: where hard-wrapped paragraphs are separated by single line breaks (no blank
    lines), a line that breaks right after a sentence is still split there. Its layout is that of
    a paragraph whose last line happens to be full (~1 in 10 at 70 columns); joining those merged
    about as many paragraph pairs as it mended splits (demo corpus rewrapped), and a merge mixes
    two paragraphs' labels. A two-line block whose first line ends a sentence stays two
    paragraphs, and so does a block from a wrapper that breaks after a sentence although the next
    word would have fitted (that looks deliberate). Paragraphs come back stripped, in order;
    whitespace inside a line is kept.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    out: list[str] = []
    for block in _BLANK.split(text.strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if lines:
            out.extend(_block(lines))
    return out


def paragraph_id(doc_id: str, index: int) -> str:
    """The id of paragraph ``index`` (0-based) of document ``doc_id``, the same everywhere: a
    dataset built from articles, predict.py's rows and the service's (``<doc_id>-p<index>``)."""
    return f"{doc_id}-p{index}"
