"""Page furniture: the lines of a web page that are not the article's text, never worth labelling.

The rule (``furniture_kind``), checked in this order on the whole paragraph after trimming it;
the first that matches names the kind, and a paragraph that matches none is text:

- ``byline``: the whole paragraph is "By" and one to four names, joined by commas, "and" or "&",
  optionally followed by a comma or "|" and an outlet or role ("By Thomas Reed", "By A. Smith and
  B. Jones, Reuters"). Every name word starts with a capital letter and the line has at most 15
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
- ``short``: fewer than ``min_words`` words (``suggest.min_words``, 5 by default): too little
  text to carry a stance.

The rule is kept conservative: a paragraph is left out only when its whole shape is furniture,
never for a word it contains, so an argument that mentions a newsletter or starts with "By" stays.
"""

from __future__ import annotations

import re

KINDS = ("byline", "dateline", "caption", "share", "short")

_NAME = r"(?:[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|da|del|bin)){0,3})"
_BYLINE = re.compile(
    rf"^(?:By|BY)\s+{_NAME}(?:\s*(?:,|\band\b|&)\s*{_NAME}){{0,3}}"
    r"(?:\s*[,|]\s*[A-Z][\w .&'’-]*)?\.?$"
)
_DATELINE = re.compile(
    r"^[A-Z][A-Z .,'’-]*[A-Z](?:,\s*[A-Z][a-z]+\.?\s*\d{0,2})?\s*(?:\([^)]*\))?\s*[—–-]+$"
)
_STAMP = re.compile(r"^(?:last\s+updated|updated|published|posted)\s*:?\s+(.+)$", re.IGNORECASE)
# what may follow "Updated": dates, times, time zones, "on"/"at" and nothing else
_STAMP_WORD = re.compile(
    r"^(?:\d[\d:/.,-]*|[ap]\.?m\.?|on|at|(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)"
    r"[a-z]*\.?,?|(?:mon|tues?|wed|thur?s?|fri|sat|sun)[a-z]*\.?,?"
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


def furniture_kind(text: str, min_words: int = 5) -> str | None:
    """The kind of page furniture ``text`` is (one of ``KINDS``), or None for article text."""
    line = " ".join(text.split())
    words = len(line.split())
    if words <= 15 and _BYLINE.match(line):
        return "byline"
    if _DATELINE.match(line) or _is_stamp(line):
        return "dateline"
    if _CAPTION_START.match(line) or (words <= 40 and _CREDIT.search(line)):
        return "caption"
    if words <= 15 and _SHARE.match(line):
        return "share"
    if words < min_words:
        return "short"
    return None


def _is_stamp(line: str) -> bool:
    """ "Updated 3:45 p.m. ET": the keyword, then only dates and times (with a digit)."""
    stamp = _STAMP.match(line)
    if stamp is None or not any(c.isdigit() for c in stamp.group(1)):
        return False
    return all(_STAMP_WORD.match(word) for word in stamp.group(1).split())
