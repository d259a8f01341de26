"""The linear families' fit is never silent: a line on stderr as each phase starts, silenced by
``model.progress_bar=false`` (the transformer's and setfit's name for their bars)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance import models
from stance.models.sklearn_models import TfidfStanceModel


def test_tfidf_fit_names_each_phase_on_stderr(
    toy_split, capfd: pytest.CaptureFixture, tmp_path: Path
) -> None:
    train, val = toy_split(60, 0), toy_split(20, 1)
    model = TfidfStanceModel(char_ngrams=None, target_mode="none").fit(train, val)
    err = capfd.readouterr().err.splitlines()
    assert err[0] == "tfidf: features of 60 training rows"
    assert err[1].startswith("tfidf: logreg on ") and "features" in err[1]
    assert err[2] == "tfidf: calibration: a temperature on 20 validation rows"
    TfidfStanceModel(char_ngrams=None, target_mode="none", progress_bar=False).fit(train, val)
    assert capfd.readouterr().err == ""
    model.save(tmp_path / "model")  # a setting of this machine: not in the folder
    assert "progress_bar" not in (tmp_path / "model" / "stance_model.json").read_text()
    assert models.load(tmp_path / "model").progress_bar is True
