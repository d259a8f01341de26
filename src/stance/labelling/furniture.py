"""Page furniture as the labelling loop uses it: the rule lives in ``stance.data.furniture``.

One rule for every place that meets furniture (suggest.py leaves it off a label sheet, predict.py
marks it and leaves it out of the document stance, the paragraph splitter lets it stand alone),
kept in the data layer so that all of them may import it.
"""

from __future__ import annotations

from stance.data.furniture import KINDS, furniture_kind

__all__ = ["KINDS", "furniture_kind"]
