"""Page furniture: the lines of a web page that are not the article's text (bylines, datelines,
captions, credits, share lines), never worth labelling nor counted in a document's stance.

``suggest.py`` leaves furniture out of a labelling round; ``predict.py`` marks it ``furniture``
and leaves it out of the document stance; ``split_paragraphs`` lets a furniture line stand alone.

The rule (``furniture_kind``), checked in this order on the whole paragraph after trimming it;
the first that matches names the kind, and a paragraph that matches none is text:

- ``byline``: the whole paragraph is "By" and one to four names, joined by commas, "and" or "&",
  optionally followed by a comma or "|" and an outlet or role ("By Thomas Reed", "By A. Smith and
  B. Jones, Reuters"), and by a date ("By Laura Jimenez | Business Reporter September 3, 2024").
  Every name word starts with a capital letter and the line has at most 15
  words, so "By 2030, the policy will..." or "By contrast, the senators argued..." stay.
- ``dateline``: a dateline alone ("WASHINGTON (Reuters) —", "LONDON, March 3 -"): capitals, an
  optional date and agency in brackets, a dash, nothing after it; or a time stamp alone:
  "Updated", "Published", "Posted" or "Last updated" followed only by dates, times and time
  zones, with a digit among them ("Updated 3:45 p.m. ET", "Published March 3, 2024 at 10:00
  GMT"; not "Updated figures show 3 million...").
- ``caption``: a photo caption or credit: it starts with "Photo", "Photograph", "Image",
  "Picture", "Caption", "Credit" or "File photo" followed by ":", "/" or "by"; or a paragraph of
  at most 40 words holds a credit: "(AP Photo/...)", "Reuters/...", "Getty Images", "AFP via
  Getty", "Shutterstock", "EPA-EFE".
- ``share``: a share, subscribe or promotion line of at most 15 words that starts with "Share"
  alone or "Share this|on|via|:", "Sign up" (alone or "for|to|now|here|today"), "Subscribe",
  "Newsletter", "Read more", "Read next", "Related:", "Advertisement", "Follow us", "Click
  here", "Listen to this article", "Download the|our app", "Get our (free) newsletter|app",
  "Recommended" (alone or with ":"), or is "More from" and one word ("More from Reuters").
- ``pattern``: a paragraph that one of the given regular expressions matches whole, ignoring
  case (``document.furniture_patterns`` in predict.py), e.g. ``copyright .*``.
- ``short``: fewer than ``min_words`` words (``suggest.min_words``, 5 by default; predict.py
  uses 0, off): too little text to carry a stance.

The rule is kept conservative: a paragraph is left out only when its whole shape is furniture,
never for a word it contains, so an argument that mentions a newsletter or starts with "By" stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stance.errors import StanceError, problem

KINDS = ("byline", "dateline", "caption", "share", "pattern", "short")
ALONE = ("byline", "dateline", "share")  # kinds a line of a block is split off as (and credits)
CREDIT_WORDS = 8  # a credit line alone ("Jane Doe/Getty Images"); longer: a wrapped line of text

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
_DATE = rf"(?i:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|\d{{4}}-\d\d-\d\d)"
_NAME = r"(?:[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|da|del|bin)){0,3})"
_BYLINE = re.compile(
    rf"^(?:By|BY)\s+{_NAME}(?:\s*(?:,|\band\b|&)\s*{_NAME}){{0,3}}"
    r"(?:\s*[,|]\s*[A-Z][\w .&'’-]*)?"
    rf"(?:\s*[,|—–-]?\s*{_DATE})?\.?$"
)
_DATELINE = re.compile(
    r"^[A-Z][A-Z .,'’-]*[A-Z](?:,\s*[A-Z][a-z]+\.?\s*\d{0,2})?\s*(?:\([^)]*\))?\s*[—–-]+$"
)
_STAMP = re.compile(r"^(?:last\s+updated|updated|published|posted)\s*:?\s+(.+)$", re.IGNORECASE)
# what may follow "Updated": dates, times, time zones, "on"/"at" and nothing else
_STAMP_WORD = re.compile(
    rf"^(?:\d[\d:/.,-]*|[ap]\.?m\.?|on|at|{_MONTH},?|(?:mon|tues?|wed|thur?s?|fri|sat|sun)[a-z]*\.?,?"
    r"|[ECMP][SD]?T|GMT|BST|CES?T|UTC)[,.;|]?$",
    re.IGNORECASE,
)
_CAPTION_START = re.compile(
    r"^(?:file\s+photo|photo(?:graph)?s?|image|picture|caption|credit)\s*(?:[:/]|by\b)",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"\((?:AP|AFP|Reuters)?\s*Photos?\s*/|\bReuters/|\bGetty Images\b|\bAFP via Getty\b"
    r"|\bShutterstock\b|\bEPA-EFE\b",
)
_SHARE = re.compile(
    r"^(?:share(?:\s+(?:this|on|via)\b|\s*[:|]|$)|sign\s+up(?:\s+(?:for|to|now|here|today)\b|$)"
    r"|subscribe\b|newsletter\b|read\s+(?:more|next)\b|related\s*:|advertisement\b"
    r"|follow\s+us\b|click\s+here\b|listen\s+to\s+this\s+article\b|download\s+(?:the|our)\s+app\b"
    r"|get\s+our\s+(?:free\s+)?(?:newsletter|app)\b|recommended\s*(?::|$)|more\s+from\s+\S+\s*$)",
    re.IGNORECASE,
)


def furniture_kind(
    text: str, min_words: int = 5, patterns: Sequence[str | re.Pattern] = ()
) -> str | None:
    """The kind of page furniture ``text`` is (one of ``KINDS``), or None for article text;
    ``patterns``: more furniture, regular expressions a whole paragraph matches (``compile``)."""
    line = " ".join(text.split())
    words = len(line.split())
    if words <= 15 and _BYLINE.match(line):
        return "byline"
    if _DATELINE.match(line) or _is_stamp(line) or (words <= 8 and _is_date(line)):
        return "dateline"
    if _CAPTION_START.match(line) or (words <= 40 and _CREDIT.search(line)):
        return "caption"
    if words <= 15 and _SHARE.match(line):
        return "share"
    if any(re.compile(p, re.IGNORECASE).fullmatch(line) if isinstance(p, str) else p.fullmatch(line)
           for p in patterns):  # fmt: skip
        return "pattern"
    if words < min_words:
        return "short"
    return None


def _is_stamp(line: str) -> bool:
    """ "Updated 3:45 p.m. ET": the keyword, then only dates and times (with a digit)."""
    stamp = _STAMP.match(line)
    if stamp is None or not any(c.isdigit() for c in stamp.group(1)):
        return False
    return all(_STAMP_WORD.match(word) for word in stamp.group(1).split())


def _is_date(line: str) -> bool:
    """ "September 3, 2024": only dates and times, with a digit and a month or a clock time."""
    words = line.split()
    return (
        any(c.isdigit() for c in line)
        and all(_STAMP_WORD.match(word) for word in words)
        and bool(re.search(rf"(?i:\b{_MONTH}(?!\w)|\d:\d\d)", line))
    )


def compile_patterns(patterns: Sequence[str], key: str) -> list[re.Pattern]:
    """``patterns`` compiled (ignoring case); a bad one stops with its place in ``key``."""
    out = []
    for i, pattern in enumerate(patterns):
        try:
            out.append(re.compile(pattern, re.IGNORECASE))
        except (re.error, TypeError) as err:
            fix = "give a Python regular expression matching a whole paragraph, e.g. 'copyright .*'"
            what = f"not a pattern ({err})"
            raise StanceError(problem(f"{key}[{i}]={pattern!r}", what, fix)) from None
    return out


def stands_alone(line: str) -> bool:
    """Whether a line of a block is furniture that is never part of a paragraph: a byline, a
    dateline or date, a share line, or a caption or credit of at most ``CREDIT_WORDS`` words."""
    if not line[:1].isupper():
        return False
    kind = furniture_kind(line, min_words=0)
    return kind in ALONE or (kind == "caption" and len(line.split()) <= CREDIT_WORDS)
