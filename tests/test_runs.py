"""The run record: atomic writes, status lifecycle, the model folder and the run-dir resolver."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from stance import runs
from stance.errors import StanceError
from stance.experiment.model_card import model_card


class FakeModel:
    """Writes two files; optionally dies between them like a killed process."""

    def __init__(self, die: bool = False) -> None:
        self.die = die

    def save(self, path: str | Path) -> None:
        """Write ``weights`` then ``stance_model.json`` (the marker that makes it loadable)."""
        folder = Path(path)
        folder.mkdir(parents=True)
        (folder / "weights").write_text("w")
        if self.die:
            raise KeyboardInterrupt
        (folder / "stance_model.json").write_text('{"family": "tfidf", "classes": []}')


def test_model_folder_appears_only_when_complete(tmp_path: Path) -> None:
    dest = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt):
        runs.save_model_atomic(FakeModel(die=True), dest, "card")
    assert not dest.exists()
    runs.save_model_atomic(FakeModel(), dest, "# card\n")
    assert (dest / "stance_model.json").is_file()
    assert (dest / runs.MODEL_CARD).read_text() == "# card\n"


def test_saving_again_replaces_the_old_model(tmp_path: Path) -> None:
    dest = tmp_path / "model"
    runs.save_model_atomic(FakeModel(), dest, "old")
    runs.save_model_atomic(FakeModel(), dest, "new")
    assert (dest / runs.MODEL_CARD).read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temp folders left


def test_status_lifecycle(tmp_path: Path) -> None:
    with runs.recording(tmp_path, {"dataset": "demo"}) as record:
        assert runs.read_run(tmp_path)["status"] == "running"
        assert record["dataset"] == "demo"
    info = runs.read_run(tmp_path)
    assert info["status"] == "complete" and info["ended"] and "libraries" in info
    assert runs.is_complete(tmp_path)

    with pytest.raises(ValueError), runs.recording(tmp_path, {}):
        raise ValueError("boom")
    info = runs.read_run(tmp_path)
    assert info["status"] == "failed" and info["error"] == "ValueError: boom"
    assert not runs.is_complete(tmp_path)


def test_metrics_and_predictions_round_trip(tmp_path: Path) -> None:
    runs.write_metrics(tmp_path, {"test/f_avg": 0.5, "test/f1/pro": 0.25})
    assert runs.read_metrics(tmp_path) == {"test/f_avg": 0.5, "test/f1/pro": 0.25}
    rows = [{"id": "a", "text": "é", "gold": "pro", "pred": "anti", "proba": {"pro": 0.4}}]
    runs.write_predictions(tmp_path, "test", rows)
    assert runs.read_predictions(tmp_path, "test") == rows
    assert [p.name for p in (tmp_path / runs.PREDICTIONS_DIR).iterdir()] == ["test.jsonl"]


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / runs.METRICS_FILE).write_text('{"a": 1,\n oops}')
    with pytest.raises(StanceError, match=r"metrics.json:2: not valid JSON"):
        runs.read_metrics(tmp_path)


def test_run_dir_resolver_is_deterministic() -> None:
    cfg = OmegaConf.create(
        {
            "a": "${stance_dirname:''}",
            "b": "${stance_dirname:'model.C=2,seed=1'}",
            "c": "${stance_dirname:'dataset.path=/tmp/x.csv'}",
        }
    )
    assert cfg.a == "default"
    assert cfg.b == "model.C-2+seed-1"
    assert cfg.c == "dataset.path-_tmp_x.csv"  # one folder, never nested by a slash
    assert runs.slug("runs/demo/x y") == "runs_demo_x_y"


@pytest.mark.parametrize(
    "overrides",
    [
        "dataset.labels=[anti,neutral,pro]",
        "model.C=0.5,seed=1",
        "dataset.path=/data/my file.csv,model=hybrid",
        "+experiment=demo_cv,dataset.split.fold=0",
        "model.encoder=packaged:all-mpnet-base-v2,model.name='x y'",
    ],
)
def test_every_run_folder_can_be_pasted_back_into_model(overrides: str) -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    folder = f"runs/demo/tfidf_logreg/{runs.slug(overrides)}"
    parsed = OverridesParser.create().parse_override(f"model={folder}")
    assert parsed.value() == folder


def test_model_card_has_what_a_reader_needs(tmp_path: Path) -> None:
    cfg = OmegaConf.create({"model": {"name": "tfidf_logreg", "C": 4.0}})
    info = {
        "model": "tfidf_logreg",
        "dataset": "demo",
        "dataset_fingerprint": "abc123",
        "labels": ["pro", "anti"],
        "seed": 3,
        "git_commit": "deadbeef",
        "libraries": {"scikit-learn": "1.9"},
    }
    card = model_card(info, cfg, {"test/f_avg": 0.8125})
    for needle in ("abc123", "deadbeef", "scikit-learn 1.9", "C: 4.0"):
        assert needle in card
    assert "## Metrics\n\n| metric | value |\n|---|---|\n| test/f_avg | 0.8125 |\n\n" in card


def test_a_long_override_folder_name_is_capped_and_stays_distinct() -> None:
    long_a = ",".join(f"model.option_{i}={i}" for i in range(30))
    long_b = long_a.replace("=29", "=30")
    a, b = runs.slug(long_a), runs.slug(long_b)
    assert len(a) <= runs.MAX_NAME and len(b) <= runs.MAX_NAME and a != b
    assert a.startswith("model.option_0-0+") and runs.slug(long_a) == a
    assert runs.slug("seed=3,model.C=0.5") == "seed-3+model.C-0.5"  # short ones as before


def test_the_user_error_is_part_of_the_public_api() -> None:
    import stance
    from stance.errors import StanceError

    assert stance.StanceError is StanceError and "StanceError" in stance.__all__


def test_sigterm_or_ctrl_c_marks_the_run_interrupted_and_restores_the_handler(
    tmp_path: Path,
) -> None:
    import os
    import signal

    from stance.errors import Interrupted

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), runs.recording(tmp_path / "a", {"model": "m"}):
        os.kill(os.getpid(), signal.SIGTERM)
    record = runs.read_run(tmp_path / "a")
    assert record["status"] == "interrupted" and record["error"] == "stopped by SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(KeyboardInterrupt), runs.recording(tmp_path / "b", {"model": "m"}):
        raise KeyboardInterrupt
    assert runs.read_run(tmp_path / "b")["status"] == "interrupted"
    with pytest.raises(ValueError), runs.recording(tmp_path / "c", {"model": "m"}):
        raise ValueError("boom")
    assert runs.read_run(tmp_path / "c")["status"] == "failed"


def test_a_script_stopped_by_sigterm_exits_143_without_a_traceback(capsys) -> None:
    import os
    import signal

    from stance.cli import user_errors

    @user_errors
    def job() -> None:
        with runs._sigterm_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit) as stopped:
        job()
    assert stopped.value.code == 128 + signal.SIGTERM
    assert "stopped by SIGTERM; the same command continues the run" in capsys.readouterr().err
