"""The hybrid's encoding is never silent: an estimate and a bar on stderr, the bar silenced by
``model.progress_bar=false``."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance import models
from stance.models.hybrid import HybridStanceModel


def test_hybrid_encoding_shows_an_estimate_and_a_bar(
    tiny_bert: Path, toy_split, capfd: pytest.CaptureFixture, tmp_path: Path
) -> None:
    train = toy_split(40, 0)
    model = HybridStanceModel(encoder=str(tiny_bert), char_ngrams=None, embed_batch_size=8)
    model.fit(train)
    err = capfd.readouterr().err
    assert "hybrid: embedding 40 texts, about " in err and " on this machine" in err
    assert "hybrid: embedding: 100%" in err and "5/5" in err  # the bar, 5 batches of 8
    quiet = HybridStanceModel(
        encoder=str(tiny_bert), char_ngrams=None, embed_batch_size=8, progress_bar=False
    )
    quiet.fit(train)
    assert "hybrid: embedding:" not in capfd.readouterr().err
    quiet.save(tmp_path / "model")  # a setting of this machine, not of the model
    assert "progress_bar" not in (tmp_path / "model" / "stance_model.json").read_text()
    assert models.load(tmp_path / "model").progress_bar is True


def test_transformer_scoring_shows_a_bar_when_long(
    tiny_bert: Path, toy_split, capfd: pytest.CaptureFixture
) -> None:
    from stance.models.transformer.model import TransformerStanceModel

    tiny = {"pretrained": str(tiny_bert), "max_length": 32, "stride": 8, "max_steps": 1}
    model = TransformerStanceModel(**tiny, predict_batch_size=2, progress_bar=False)
    model.fit(toy_split(8, 0))
    test = toy_split(40, 1)
    model.progress_bar = True
    capfd.readouterr()
    model.predict_proba(test["text"][:10], test["target"][:10])  # 5 batches: no bar
    assert "scoring windows" not in capfd.readouterr().err
    model.predict_proba(test["text"], test["target"])  # 20 batches: calibration, evaluation
    assert "transformer: scoring windows: 100%" in capfd.readouterr().err
    model.progress_bar = False
    model.predict_proba(test["text"], test["target"])
    assert "scoring windows" not in capfd.readouterr().err
