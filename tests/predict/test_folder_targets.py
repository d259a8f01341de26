"""A folder's policies: sidecars of both names, a targets.csv, errors that say where to write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stance
from fixtures import tiny_dataset
from stance.errors import StanceError
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict import load_model
from train_helpers import run_script_in_process


@pytest.fixture(scope="module")
def policy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model with a classifier per policy (tariffs, sanctions, aid): it needs a target."""
    folder = tmp_path_factory.mktemp("per_policy")
    model = TfidfStanceModel(target_mode="per_target", min_target_examples=10)
    model.fit(tiny_dataset()["train"]).save(folder)
    assert model.requires_target
    return folder


def article(path: Path, cue: str = "support") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"We {cue} the policy.\n\nThey {cue} it too, said the senator.\n")
    return path


def test_sidecars_of_both_names_and_a_targets_csv_give_each_article_its_policy(
    policy_model: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    article(folder / "cuba_oped.txt").with_name("cuba_oped.txt.target").write_text("tariffs\n")
    article(folder / "memo.txt").with_name("memo.target").write_text("aid")
    article(folder / "2024" / "trade.txt")
    article(folder / "brief.txt")
    article(folder / "both.txt").with_name("both.txt.target").write_text("sanctions")
    (folder / "targets.csv").write_text("file,target\nbrief.txt,aid\n2024/*.txt,tariffs\n*,aid\n")
    out = tmp_path / "labels.jsonl"
    run_script_in_process("predict", [f"model={policy_model}", f"input={folder}", f"output={out}"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    targets = {r["doc_id"]: r["target"] for r in rows if r["level"] == "paragraph"}
    assert targets == {
        "cuba_oped": "tariffs",  # <name>.txt.target
        "memo": "aid",  # <name>.target
        "2024/trade": "tariffs",  # a glob with "/" in targets.csv
        "brief": "aid",  # a file name in targets.csv
        "both": "sanctions",  # a sidecar beats targets.csv (whose "*" row says aid)
    }
    assert not any(r["level"] == "paragraph" and r["unseen_target"] for r in rows)


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels.parquet"])
def test_an_article_without_a_policy_names_every_place_looked_and_leaves_no_file(
    policy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    folder = tmp_path / "in"
    article(folder / "cuba_oped.txt")
    (folder / "targets.csv").write_text("file,target\nother.txt,aid\n")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as stopped:
        run_script_in_process(
            "predict", [f"model={policy_model}", f"input={folder}", f"output={tmp_path / name}"]
        )
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    for place in ("cuba_oped.txt.target", "cuba_oped.target", str(folder / "targets.csv")):
        assert place in err
    assert f"error: {folder / 'cuba_oped.txt'}: " in err
    assert "cuba_oped.txt,<policy>" in err and "target=<policy>" in err
    assert "A sidecar beats targets.csv" in err and "aid, sanctions, tariffs" in err
    assert sorted(tmp_path.rglob("*")) == before  # no 0-byte output, no .stance.json


def test_a_bad_targets_csv_names_its_line(policy_model: Path, tmp_path: Path) -> None:
    from stance.predict.policies import file_target

    path = article(tmp_path / "a.txt")
    (tmp_path / "targets.csv").write_text("file,target\na.txt,\n")
    with pytest.raises(StanceError, match=r"targets.csv:2: empty file or target"):
        file_target(path, tmp_path)
    (tmp_path / "targets.csv").write_text("name,policy\na.txt,aid\n")
    with pytest.raises(StanceError, match=r"targets.csv:1: its header is .* not file,target"):
        file_target(path, tmp_path)


def test_python_callers_get_the_python_fix(policy_model: Path) -> None:
    assert stance.StanceError is StanceError
    predictor = load_model(policy_model)
    with pytest.raises(stance.StanceError) as missing:
        predictor.predict(["We support it."])
    message = str(missing.value)
    assert "predict(texts)" in message and "targets=[" in message
    assert "command line" not in message and "target=..." not in message
    with pytest.raises(stance.StanceError, match=r"targets\[1\]"):
        predictor.predict_proba(["We support it.", "We oppose it."], targets=["aid", None])
    assert list(predictor.predict(["We support it."], targets=["aid"])) in (["pro"], ["anti"])
