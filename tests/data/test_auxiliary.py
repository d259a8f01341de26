"""dataset.auxiliary: other datasets' train rows added to the user's; validation and test kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import DatasetDict

from fixtures import tiny_dataset, tiny_split
from stance import runs
from stance.data import auxiliary, ensure_dataset, is_current, load_processed, overlap
from stance.errors import StanceError
from train_helpers import compose_cfg, run_script_in_process, write_csv


def write_aux(tmp_path: Path, labels: list[str], n: int = 60, target: bool = True) -> Path:
    """A dataset config configs/dataset/aux.yaml in tmp_path, reading aux.csv written beside it."""
    data = DatasetDict(train=tiny_split(n, seed=7, labels=tuple(labels)))
    if not target:
        data["train"] = data["train"].remove_columns("target")
    write_csv(data, tmp_path / "aux.csv")
    columns = {"text": "text", "label": "label", "id": "id", "doc_id": "doc_id"}
    columns |= {"target": "target"} if target else {}
    config = {
        "name": "aux",
        "format": "csv",
        "path": str(tmp_path / "aux.csv"),
        "columns": columns,
        "labels": labels,
        "split": {"ratios": {"train": 0.6, "validation": 0.2, "test": 0.2}},
    }
    folder = tmp_path / "configs" / "dataset"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aux.yaml").write_text(json.dumps(config))  # JSON is YAML
    return tmp_path / "configs"


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write the aux dataset config and make train(cfg) outside a Hydra app find it."""

    def install(labels: list[str], **options) -> Path:
        folder = write_aux(tmp_path, labels, **options)
        monkeypatch.setattr(auxiliary, "CONFIGS", folder)
        return folder

    return install


def add(user: DatasetDict, root: Path, names: list[str]) -> tuple[DatasetDict, list[dict]]:
    """``user`` (dataset `tiny`) with the train rows of ``names`` added."""
    return auxiliary.add_train_rows(user, {"name": "tiny", "auxiliary": names}, str(root))


def test_train_grows_by_the_auxiliary_train_rows_only(tmp_path: Path, configs) -> None:
    configs(["anti", "pro"])  # the other label order than the user's (pro, anti)
    user = tiny_dataset()
    out, (record,) = add(user, tmp_path / "processed", ["aux"])
    aux = ensure_dataset(auxiliary.compose_dataset("aux"), tmp_path / "processed")

    assert len(out["train"]) == len(user["train"]) + len(aux["train"]) == 120 + record["rows"]
    assert record["left_out"] == 0 and record["fingerprint"]
    for split in ("validation", "test"):
        assert out[split]["id"] == user[split]["id"]
    added = out["train"].select(range(len(user["train"]), len(out["train"])))
    assert added["id"] == [f"aux:{i}" for i in aux["train"]["id"]]
    assert added["doc_id"] == [f"aux:{d}" for d in aux["train"]["doc_id"]]
    names = out["train"].features["label"].names
    theirs = aux["train"].features["label"].names
    assert [names[i] for i in added["label"]] == [theirs[i] for i in aux["train"]["label"]]
    assert added["target"] == aux["train"]["target"]
    assert set(added["source"]) == {None}  # the user's column, unknown for these rows


def test_rows_with_a_validation_or_test_text_are_left_out(
    tmp_path: Path, configs, capsys: pytest.CaptureFixture
) -> None:
    configs(["anti", "pro"])
    aux = ensure_dataset(auxiliary.compose_dataset("aux"), tmp_path / "processed")["train"]
    user = tiny_dataset()
    # the user's held-out rows share three of the auxiliary texts (case and inner spaces differ)
    for split, picks in (("validation", [0, 1]), ("test", [2])):
        texts = list(user[split]["text"])
        for k, i in enumerate(picks):
            texts[k] = aux["text"][i].upper().replace(" ", "  \t", 1)
        user[split] = user[split].remove_columns("text").add_column("text", texts)

    out, (record,) = add(user, tmp_path / "processed", ["aux"])

    assert record["left_out"] == 3 and record["rows"] == len(aux) - 3
    assert len(out["train"]) == len(user["train"]) + len(aux) - 3
    assert not {aux["text"][i] for i in (0, 1, 2)} & set(out["train"]["text"])
    line = f"auxiliary: +{len(aux) - 3} rows from aux (3 left out: same text as validation/test)"
    assert line in capsys.readouterr().out


def test_labels_the_user_lacks_stop_with_the_fix(tmp_path: Path, configs) -> None:
    configs(["anti", "neutral", "pro"])
    with pytest.raises(StanceError) as err:
        add(tiny_dataset(), tmp_path / "processed", ["aux"])
    message = str(err.value)
    assert "auxiliary dataset 'aux'" in message and "['neutral']" in message
    assert "label_map" in message


def test_target_column_is_required_when_the_user_has_one(tmp_path: Path, configs) -> None:
    configs(["anti", "pro"], target=False)
    with pytest.raises(StanceError, match="has a target per row and aux has none"):
        add(tiny_dataset(), tmp_path / "processed", ["aux"])

    configs(["anti", "pro"])  # the other way round: the auxiliary's targets are dropped
    user = tiny_dataset().remove_columns("target")
    out, _ = add(user, tmp_path / "processed", ["aux"])
    assert out["train"].column_names == user["train"].column_names


def test_a_missing_config_names_the_available_ones(tmp_path: Path, configs) -> None:
    configs(["anti", "pro"])
    with pytest.raises(StanceError) as err:
        add(tiny_dataset(), tmp_path / "processed", ["nope"])
    assert "dataset.auxiliary='nope'" in str(err.value) and "['aux']" in str(err.value)
    with pytest.raises(StanceError, match="the dataset itself"):
        add(tiny_dataset(), tmp_path / "processed", ["tiny"])


def test_changing_auxiliary_leaves_the_users_build_current(tmp_path: Path) -> None:
    overrides = write_csv(tiny_dataset(), tmp_path / "tiny.csv")
    dataset = compose_cfg("train", overrides).dataset
    ensure_dataset(dataset, tmp_path / "processed")
    dataset.auxiliary = ["tweeteval_stance"]
    assert is_current(dataset, tmp_path / "processed")


def script_argv(tmp_path: Path, configs: Path) -> list[str]:
    """scripts/train.py on the tiny CSV with aux added, found through hydra.searchpath."""
    return [
        *write_csv(tiny_dataset(), tmp_path / "tiny.csv"),
        "dataset.auxiliary=[aux]",
        f"hydra.searchpath=[file://{configs}]",
        f"paths.processed_root={tmp_path / 'processed'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        "evaluation.bootstrap=0",
        "model.char_ngrams=null",
    ]


def test_script_records_the_auxiliary_rows_and_reruns_when_they_change(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = script_argv(tmp_path, write_aux(tmp_path, ["anti", "pro"]))
    run_script_in_process("train", argv)
    run_dir = tmp_path / "run"
    info = runs.read_run(run_dir)
    (record,) = info["auxiliary"]
    assert record["dataset"] == "aux" and record["rows"] > 0 and record["left_out"] == 0
    trained = overlap.read_record(run_dir / runs.MODEL_DIR)["rows"]["train"]
    user_train = load_processed(tmp_path / "processed" / "tiny")["train"]
    assert len(trained) == len(user_train) + record["rows"] > len(user_train)

    run_script_in_process("train", argv)
    assert "already holds a complete run" in capsys.readouterr().out
    write_aux(tmp_path, ["anti", "pro"], n=90)  # the auxiliary data changed: train again
    run_script_in_process("train", argv)
    assert "already holds" not in capsys.readouterr().out
    assert runs.read_run(run_dir)["auxiliary"][0]["fingerprint"] != record["fingerprint"]


def test_script_label_mismatch_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = script_argv(tmp_path, write_aux(tmp_path, ["anti", "neutral", "pro"]))
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("train", argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "auxiliary dataset 'aux'" in err and "Traceback" not in err
