"""Page furniture in predict: bylines, datelines, captions and share lines stand alone as
paragraphs, are marked ``furniture`` and never count towards the document stance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stance.config_schemas import DocumentConfig
from stance.data.furniture import furniture_kind
from stance.data.paragraphs import split_paragraphs
from stance.errors import StanceError
from stance.predict import label_rows
from stance.predict.loading import Predictor
from train_helpers import RuleModel

BYLINE_BLOCK = "By Laura Jimenez | Business Reporter\nSeptember 3, 2024"


def test_a_byline_and_a_date_in_one_block_stand_alone() -> None:
    text = f"Tariffs hit steel\n\n{BYLINE_BLOCK}\n\nThe council voted to adopt the plan."
    assert split_paragraphs(text) == [
        "Tariffs hit steel", "By Laura Jimenez | Business Reporter", "September 3, 2024",
        "The council voted to adopt the plan.",
    ]  # fmt: skip
    block = "Share this article\nThe council voted 5-4 to adopt the plan after a long debate."
    assert split_paragraphs(block)[0] == "Share this article"


def test_text_that_only_looks_like_furniture_still_joins() -> None:
    wrapped = (
        "By contrast, the senators argued at length that the new tariff plan\n"
        "would hurt the farmers of the state and the workers of its mills."
    )
    assert split_paragraphs(wrapped) == [" ".join(wrapped.split("\n"))]


def test_the_rule_knows_bare_dates_and_bylines_with_dates() -> None:
    assert furniture_kind("September 3, 2024", min_words=0) == "dateline"
    assert furniture_kind("By Laura Jimenez | Business Reporter September 3, 2024") == "byline"
    assert furniture_kind("In September 2024 the council voted to adopt it.") is None
    assert furniture_kind("Copyright 2024 The Herald", 0, ["copyright .*"]) == "pattern"
    assert furniture_kind("Copyright law was the subject of the talk", 0, ["copyright"]) is None


class Fixed(RuleModel):
    """A model that calls furniture 'anti' with confidence and text 'pro'."""

    classes_ = ("pro", "anti")
    uses_target = False

    def predict_proba(self, texts: list[str], targets: object = None) -> np.ndarray:
        anti = [furniture_kind(t, 0) is not None for t in texts]
        return np.array([[0.02, 0.98] if a else [0.7, 0.3] for a in anti])


def rows(*texts: str) -> list[dict]:
    return [{"id": f"a{i}", "doc_id": "A", "text": t} for i, t in enumerate(texts)]


def test_furniture_is_marked_and_left_out_of_the_document_stance() -> None:
    predictor = Predictor(Fixed(), Path("fixed"))
    texts = ("By Laura Jimenez", "We support the plan.", "They welcome it.", "Share this article",
             "September 3, 2024", "Photo: a hall")  # fmt: skip
    out = label_rows(predictor, rows(*texts))
    assert [r["furniture"] for r in out[:-1]] == [True, False, False, True, True, True]
    document = out[-1]
    assert document["label"] == "pro" and document["paragraphs_used"] == 2
    assert document["paragraphs"] == 6 and document["reason"] == ""
    counted = label_rows(predictor, rows(*texts), rule=DocumentConfig(furniture=False))
    assert counted[-1]["label"] == "anti" and not any(r["furniture"] for r in counted[:-1])


def test_an_article_of_furniture_only_abstains_and_says_why() -> None:
    out = label_rows(Predictor(Fixed(), Path("fixed")), rows("By Laura Jimenez", "Share this"))
    assert out[-1]["label"] == "no clear stance"
    assert "0 of 2 paragraphs bear a stance" in out[-1]["reason"]
    close = label_rows(Predictor(Fixed(), Path("fixed")), rows("We support it.", "We do."))
    assert close[-1]["label"] == "pro" and close[-1]["reason"] == ""


def test_patterns_are_configurable_and_a_bad_one_is_named() -> None:
    rule = DocumentConfig(furniture_patterns=["copyright .*"])
    out = label_rows(
        Predictor(Fixed(), Path("fixed")), rows("Copyright 2024 The Herald"), rule=rule
    )
    assert out[0]["furniture"] is True
    with pytest.raises(StanceError, match=r"document\.furniture_patterns\[0\].*\(unclosed"):
        label_rows(Predictor(Fixed(), Path("fixed")), rows("x"),
                   rule=DocumentConfig(furniture_patterns=["(unclosed"]))  # fmt: skip
