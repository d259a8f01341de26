"""Page furniture never goes on a label sheet, by the rule in stance.labelling.furniture."""

from __future__ import annotations

import pytest

from stance.data.schema import DedupConfig
from stance.labelling.furniture import furniture_kind
from stance.labelling.suggest import Candidate, rank, summary

FURNITURE = {
    "By Thomas Reed": "byline",
    "By A and B": "byline",
    "By Thomas Reed and Anna Lee-Smith, Reuters": "byline",
    "BY THOMAS REED | Staff Writer": "byline",
    "WASHINGTON (Reuters) —": "dateline",
    "LONDON, March 3 -": "dateline",
    "Updated 3:45 p.m. ET": "dateline",
    "Published March 3, 2024 at 10:00 GMT": "dateline",
    "Photo: Protesters outside the Capitol on Tuesday.": "caption",
    "Protesters gather outside the Capitol on Tuesday. (AP Photo/Jose Luis Magana)": "caption",
    "Senator Reed speaks at a rally in Columbus. Getty Images": "caption",
    "Share this article": "share",
    "Sign up for our daily newsletter": "share",
    "Read more: Why the tariffs matter for Ohio voters": "share",
    "Advertisement": "share",
    "They reject it.": "short",
}
ARGUMENTS = [
    "By 2030, the policy will have cut emissions by half, the senator argued.",
    "By contrast, the senators argued the tariffs would harm farmers across Ohio.",
    "Updated figures show 3 million people lost coverage in 2023.",
    "WASHINGTON (Reuters) — The senate voted to reject the tariffs on Tuesday.",
    "Share prices fell sharply after the tariffs were announced on Tuesday.",
    "The senator said she would not sign up for the new plan.",
    "We strongly oppose this new policy.",
]


@pytest.mark.parametrize(("text", "kind"), FURNITURE.items())
def test_furniture_is_named_by_its_kind(text: str, kind: str) -> None:
    assert furniture_kind(text) == kind


@pytest.mark.parametrize("text", ARGUMENTS)
def test_an_argument_that_looks_a_little_like_furniture_stays(text: str) -> None:
    assert furniture_kind(text) is None


def test_a_round_leaves_furniture_out_and_counts_it_by_kind() -> None:
    texts = [*FURNITURE, *ARGUMENTS]
    pool = [Candidate({"id": str(i), "text": t}, "pro", 0.9 - i / 100) for i, t in enumerate(texts)]
    chosen, counts = rank(pool, 50, set(), 3, DedupConfig(), furniture=True, min_words=5)
    assert [c.row["text"] for c in chosen] == ARGUMENTS
    assert counts["furniture"] == len(FURNITURE)
    assert {k: v for k, v in counts.items() if k.startswith("furniture/")} == {
        "furniture/byline": 4, "furniture/dateline": 4, "furniture/caption": 3,
        "furniture/share": 4, "furniture/short": 1,
    }  # fmt: skip
    kinds = "(byline 4, dateline 4, caption 3, share 4, short 1)"
    assert f"{len(FURNITURE)} furniture lines {kinds}" in summary(counts)
    chosen, counts = rank(pool, 50, set(), 3, DedupConfig(), furniture=False)  # the switch
    assert len(chosen) == len(texts) and counts["furniture"] == 0
