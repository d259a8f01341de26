"""Progress in every phase of a run (issue 24): a line on stderr as each starts, one switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import DatasetDict

from fixtures import tiny_split
from train_helpers import compose_cfg

PHASES = (
    "tfidf: features of 5000 training rows",
    "tfidf: logreg on",
    "temperature",  # the calibration phase
    "evaluation: validation: predicting 500 rows",
    "evaluation: test: predicting 500 rows, then scores, a 50-resample bootstrap interval",
    "evaluation: writing",
)


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> None:
    from stance.experiment.training import train

    labels = ("anti", "neutral", "pro")
    data = DatasetDict(
        train=tiny_split(5000, 0, labels),
        validation=tiny_split(500, 1, labels),
        test=tiny_split(500, 2, labels),
    )
    monkeypatch.setattr(
        "stance.experiment.training.prepare_dataset", lambda *_: (data, {"fingerprint": "t"})
    )
    overrides = [
        "~dataset",
        "+dataset={name: toy}",
        "evaluation.bootstrap=50",
        "model=tfidf_logreg",
    ]
    train(compose_cfg("train", [*overrides, f"run_dir={tmp_path / 'run'}", *extra]))


def test_a_run_of_5000_rows_says_each_phase_as_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    run(tmp_path, monkeypatch)
    err = capfd.readouterr().err
    missing = [phase for phase in PHASES if phase not in err]
    assert not missing, f"no progress for {missing} in:\n{err}"
    assert err.index(PHASES[0]) < err.index(PHASES[3]) < err.index(PHASES[-1])


def test_progress_false_silences_every_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    run(tmp_path, monkeypatch, "progress=false")
    err = capfd.readouterr().err
    assert not [phase for phase in PHASES if phase in err], err
