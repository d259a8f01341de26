"""The hybrid family: TF-IDF + frozen embeddings, behind the same contract, cached, round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stance import models
from stance.models.hybrid import HybridStanceModel


def test_hybrid_fits_predicts_saves_and_loads(tiny_bert: Path, toy_split, tmp_path: Path) -> None:
    train, test = toy_split(48, 0), toy_split(12, 1)
    cache = tmp_path / "cache"
    model = HybridStanceModel(encoder=str(tiny_bert), char_ngrams=None, cache_dir=str(cache))
    model.fit(train, test)
    assert model.uses_target  # the encoder read (target, text) pairs
    proba = model.predict_proba(test["text"], test["target"])
    assert proba.shape == (12, len(model.classes_)) and np.allclose(proba.sum(axis=1), 1)
    width = model.transform(test["text"], test["target"]).shape[1]
    assert width == len(model.vectorizer_.get_feature_names_out()) + 32  # tiny BERT: 32 wide
    assert len(list(cache.glob("*.npy"))) == 2  # train and test, once each
    model.save(tmp_path / "model")
    again = models.load(tmp_path / "model")
    assert isinstance(again, HybridStanceModel) and again.uses_target
    assert np.allclose(again.predict_proba(test["text"], test["target"]), proba)


def test_embeddings_are_normalised_and_cached_by_content(tiny_bert: Path, tmp_path: Path) -> None:
    model = HybridStanceModel(encoder=str(tiny_bert), cache_dir=str(tmp_path))
    first = model.embed(["a text", "another text"], None)
    assert np.allclose(np.linalg.norm(first, axis=1), 1)
    assert np.array_equal(model.embed(["a text", "another text"], None), first)  # from the cache
    paired = model.embed(["a text", "another text"], ["t1", "t2"])
    assert not np.allclose(paired, first)  # the target is part of the input
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_roberta_style_encoders_without_token_type_ids(
    tiny_roberta: Path, toy_split, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    from stance.models.transformer.model import TransformerStanceModel

    assert "token_type_ids" not in AutoTokenizer.from_pretrained(tiny_roberta)("a", "b")
    train, test = toy_split(16, 0), toy_split(6, 1)  # (target, text) pairs
    tuned = TransformerStanceModel(pretrained=str(tiny_roberta), max_steps=2, batch_size=4)
    tuned.fit(train).save(tmp_path / "tuned")
    again = models.load(tmp_path / "tuned")
    proba = tuned.predict_proba(test["text"], test["target"])
    assert np.allclose(again.predict_proba(test["text"], test["target"]), proba, atol=1e-5)
    hybrid = HybridStanceModel(encoder=str(tiny_roberta), char_ngrams=None).fit(train)
    assert hybrid.predict_proba(test["text"], test["target"]).shape == (6, len(hybrid.classes_))


def test_the_encoder_loads_once_and_batches_by_length_keep_the_order(
    tiny_bert: Path, monkeypatch, capfd
) -> None:
    """predict.py calls predict_proba once per batch of paragraphs: the encoder must not be
    loaded again each time, nor announce an estimate at predict time."""
    import transformers

    model = HybridStanceModel(encoder=str(tiny_bert), embed_batch_size=2)
    texts = ["a", "a much longer text than the others here", "mid length text", "b c"]
    whole = model.embed(texts, None)
    loads = []
    real = transformers.AutoModel.from_pretrained
    monkeypatch.setattr(
        transformers.AutoModel, "from_pretrained", lambda *a, **k: loads.append(a) or real(*a, **k)
    )
    one_by_one = np.vstack([model.embed([t], None) for t in texts])
    assert loads == []  # loaded once, by the first call
    np.testing.assert_allclose(whole, one_by_one, atol=1e-5)  # sorted batches, input order
    assert "hybrid: embedding" not in capfd.readouterr().err  # no announce outside fit
