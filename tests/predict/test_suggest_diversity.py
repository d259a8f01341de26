"""A round mixes uncertainty with diversity: a paraphrase of a picked paragraph gives way."""

from __future__ import annotations

import pytest

from stance.data.schema import DedupConfig
from stance.errors import StanceError
from stance.labelling.suggest import Candidate, rank

A = "The new tariffs on imported steel will hurt farmers and factory workers across Ohio this year."
B = "Farmers and factory workers across Ohio will be hurt this year by the new tariffs on imported steel."  # noqa: E501
C = "Sanctions on the regime have done little to change its conduct, the senator told reporters."


def pool() -> list[Candidate]:
    """Two paraphrases the model is very unsure of, and a less uncertain other paragraph."""
    return [
        Candidate({"id": name, "text": text, "target": "t", "doc_id": name}, "pro", u)
        for name, text, u in (("a", A, 0.95), ("b", B, 0.94), ("c", C, 0.80))
    ]


def test_diversity_takes_one_of_two_paraphrases_where_uncertainty_alone_takes_both() -> None:
    chosen, counts = rank(pool(), 2, set(), 3, DedupConfig(), diversity=0.3)
    assert counts["duplicates"] == 0  # not near-duplicates by MinHash: dedup alone keeps both
    assert [c.row["id"] for c in chosen] == ["a", "c"]
    chosen, _ = rank(pool(), 2, set(), 3, DedupConfig(), diversity=0.0)
    assert [c.row["id"] for c in chosen] == ["a", "b"]


def test_diversity_keeps_targets_in_turn_and_the_per_document_cap() -> None:
    def row(i: int, target: str, doc: str) -> dict[str, str]:
        text = f"{target} paragraph {i} on the {target} bill for the farmers of Ohio"
        return {"id": f"{target}{i}", "text": text, "target": target, "doc_id": doc}

    rows = [Candidate(row(i, "tariffs", "d1"), "pro", 0.9 - i / 100) for i in range(5)]
    rows += [Candidate(row(i, "aid", f"a{i}"), "pro", 0.5) for i in range(2)]
    chosen, counts = rank(rows, 5, set(), 2, DedupConfig(), diversity=0.5)
    assert [c.row["target"] for c in chosen] == ["aid", "tariffs", "aid", "tariffs"]
    assert counts["capped_per_document"] == 3
    with pytest.raises(StanceError, match="outside"):
        rank(rows, 5, set(), 2, DedupConfig(), diversity=1.5)
