"""The scripts' shared glue: --help from the schemas, the job log, user errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stance.cli import field_help
from stance.config_schemas import PredictConfig
from train_helpers import CONFIGS

SCRIPTS = CONFIGS.parent / "scripts"


def test_field_help_reads_each_fields_comment_and_nested_defaults() -> None:
    found = {key: (default, text) for key, default, text in field_help(PredictConfig)}
    assert found["resume"] == (
        "true",
        "an existing output: skip the documents it holds, append the rest",
    )
    assert found["document.min_margin"][0] == "0.1"
    assert "a field mapped to its own name" in found["columns"][1]  # the comment line above it


@pytest.mark.parametrize("script", ["predict", "evaluate", "suggest"])
def test_help_lists_the_scripts_own_keys_not_the_training_models(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / f"{script}.py"), "--help"],
        capture_output=True, text=True, check=True, cwd=CONFIGS.parent,
    )  # fmt: skip
    assert "  model=???\n      a run directory or a model folder" in done.stdout
    # suggest's review sheet has a model node of its own (review.model), not the training model
    own = "\n".join(s for s in done.stdout.splitlines() if not s.startswith("  review.model="))
    assert "tfidf_logreg" not in own and "== Configuration groups ==" not in done.stdout
    if script == "evaluate":
        assert '  paths.processed_root="data/processed"' in done.stdout  # the config's value


def run_script(script: str, *args: str) -> subprocess.CompletedProcess:
    """``scripts/<script>.py`` with ``args``, from the repository root, output captured."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / f"{script}.py"), *args],
        capture_output=True, text=True, cwd=CONFIGS.parent,
    )  # fmt: skip


def script_help(script: str) -> str:
    """What ``scripts/<script>.py --help`` prints (it must exit 0)."""
    done = run_script(script, "--help")
    assert done.returncode == 0, done.stderr
    assert "Configuration groups" not in done.stdout and "== Config ==" not in done.stdout
    return done.stdout


HYDRA_SCRIPTS = sorted(
    p.stem for p in SCRIPTS.glob("*.py") if "from stance.cli import run" in p.read_text()
)


def test_every_script_but_the_download_is_one_cli_run_call() -> None:
    """The scripts' `main` is written once (`stance.cli.run`), not once per script."""
    others = sorted({p.stem for p in SCRIPTS.glob("*.py")} - set(HYDRA_SCRIPTS))
    assert len(HYDRA_SCRIPTS) == 9 and others == ["download_tweeteval"]
    for script in HYDRA_SCRIPTS:
        text = (SCRIPTS / f"{script}.py").read_text()
        assert "@hydra.main" not in text and text.count("\n") < 20, script


@pytest.mark.parametrize("script", HYDRA_SCRIPTS)
def test_every_scripts_help_lists_its_keys_each_with_a_help_line(script: str) -> None:
    out = script_help(script)
    keys = out.split("Keys (key=value on the command line; default, then what it does):\n")[1]
    entries = [line for line in keys.splitlines() if re.match(r"  \S+=", line)]
    explained = keys.count("\n      ")
    assert entries and explained == len(entries), f"keys without a help line:\n{keys}"


def test_train_help_lists_its_keys_from_the_schema_not_hydras_dump() -> None:
    out = script_help("train")
    assert "  seed=0\n      passed explicitly to the model" in out
    assert "  run_lock.wait=false\n" in out and "(configs/model/: " in out


def test_compare_help_lists_its_keys_with_the_schemas_help_lines() -> None:
    out = script_help("compare")
    assert "  headline=null\n      bootstrap interval, paired test" in out
    assert '  metrics=["test/f_avg", "test/f1_macro", "test/accuracy"]' in out
    assert "learning_curve.horizon=10.0" in out


def test_the_job_log_holds_what_the_job_printed(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "job.yaml").write_text("hydra:\n  run:\n    dir: out\n")
    (tmp_path / "job.py").write_text(
        "import sys, hydra\n"
        "from stance.cli import user_errors\n"
        "from stance.errors import StanceError\n"
        "@hydra.main(version_base='1.3', config_path='conf', config_name='job')\n"
        "@user_errors\n"
        "def main(cfg):\n"
        "    print('metrics: 0.5')\n"
        "    print('\\r 50%|#####', file=sys.stderr)  # a progress bar redraw\n"
        "    raise StanceError('bad input\\n  fix: do this')\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2 and "metrics: 0.5" in done.stdout
    log = (tmp_path / "out" / "job.log").read_text()
    assert "metrics: 0.5\n" in log and "error: bad input\n  fix: do this" in log
    assert "50%" not in log


@pytest.mark.parametrize(
    ("script", "arg", "hint"),
    [
        ("suggest", "progress=false", "suggest.py has no key 'progress'"),
        ("train", "evaluation.bootstrp=10", "did you mean evaluation.bootstrap"),
        ("compare", "headlin=test/f1_macro", "did you mean headline"),
    ],
)
def test_an_unknown_key_stops_with_the_closest_keys_not_hydras_dead_end(
    script: str, arg: str, hint: str
) -> None:
    done = run_script(script, "model=x", arg)
    assert done.returncode == 2 and hint in done.stderr
    assert "--help" in done.stderr and "To append to your config" not in done.stderr


@pytest.mark.parametrize(
    ("script", "arg", "said"),
    [
        ("train", "seed=abc", "seed=abc: Value 'abc' of type 'str' could not be converted"),
        ("predict", "batch_size=lots", "batch_size=lots: Value 'lots'"),
        ("train", "model=nosuch", "Could not find 'model/nosuch'; Available options"),
        ("train", "model.C=[1", "model.C=[1: no viable alternative"),
    ],
)
def test_a_bad_value_stops_with_exit_2_the_key_and_help_not_hydras_exit_1(
    script: str, arg: str, said: str
) -> None:
    args = [arg] if script == "train" else ["model=x", arg]
    done = run_script(script, *args)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and f"python scripts/{script}.py --help" in done.stderr
    assert "HYDRA_FULL_ERROR" not in done.stderr


def test_keys_inside_free_form_nodes_and_groups_pass_the_check() -> None:
    args = ["model=x", "review.model.C=2", "model@review.model=tfidf_svm", "columns.text=body"]
    done = run_script("suggest", *args, "--cfg", "job")
    assert done.returncode == 0, done.stderr
    assert "text: body" in done.stdout
