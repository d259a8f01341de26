"""The dataset's own label words: the inverse of label_map, and where suggest.py uses them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

from stance.data.label_words import label_words
from stance.data.schema import DatasetConfig
from stance.labelling.sheets import RANKING, label_studio_config, write_round


def test_a_label_gets_its_one_raw_word_and_synonyms_keep_the_label() -> None:
    label_map = {"Support": "pro", " support": "pro", "Oppose": "anti", "against": "anti"}
    assert label_words(["pro", "anti", "neutral"], label_map) == {
        "pro": "Support", "anti": "anti", "neutral": "neutral"
    }  # fmt: skip
    assert label_words(["anti", "pro"], {"anti": "anti", "pro": "pro"}) == {
        "anti": "anti", "pro": "pro"
    }  # fmt: skip


def test_label_studio_offers_the_users_words() -> None:
    cfg = DatasetConfig(
        name="sheet", format="csv", path="x.csv", labels=["pro", "anti"], neutral_label="neutral",
        label_map={"Support": "pro", "Oppose": "anti", "No stance": "neutral"},
    )  # fmt: skip
    view = ET.fromstring(label_studio_config(cfg, {"text": "text", "label": "label"}))
    assert [c.get("value") for c in view.find("Choices")] == ["Support", "Oppose", "No stance"]


def test_the_rounds_ranking_gives_the_models_guess_in_the_users_words(tmp_path: Path) -> None:
    cfg = DatasetConfig(name="sheet", format="csv", path="x.csv", labels=["pro", "anti"],
                        label_map={"Support": "pro", "Oppose": "anti"})  # fmt: skip
    chosen = [SimpleNamespace(row={"id": "r1", "text": "we back it"}, guess="pro", uncertainty=0.4)]
    write_round(chosen, cfg, tmp_path, "model")
    (ranked,) = [json.loads(line) for line in (tmp_path / RANKING).read_text().splitlines()]
    assert ranked["model_guess"] == "Support"
