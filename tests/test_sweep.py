"""Sweeps (launcher configs, a real multirun through submitit_local) and the TweetEval download."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from fixtures import tiny_dataset
from stance.errors import StanceError
from train_helpers import compose_cfg, run_script_in_process, write_csv

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks" / "tweeteval_stance"


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- scripts/download_tweeteval.py ------------------------------------------------------------
@pytest.fixture
def download():
    """The download script as a module."""
    return load_script("download_tweeteval")


def shared_copy() -> Path:
    """The offline copy of the benchmark; skip when this machine has none."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


def test_download_writes_the_repository_layout(download, tmp_path):
    source = shared_copy()
    prefix = download.REPO_RAW.format(ref="v1") + "/"
    asked = []

    def fake_fetch(url: str) -> bytes:
        asked.append(url)
        assert url.startswith(prefix)
        return (source / url.removeprefix(prefix)).read_bytes()

    out = tmp_path / "tweeteval"
    assert download.download(out, fetch=fake_fetch, ref="v1")
    assert len(asked) == 31  # 5 targets x 3 splits x (text, labels) + mapping.txt
    for rel in download.layout():
        assert (out / rel).read_bytes() == (source / rel).read_bytes()
    assert "hillary/test_labels.txt" in download.layout()
    # A second call finds every file and fetches nothing.
    assert not download.download(out, fetch=lambda url: pytest.fail(f"fetched {url}"))


def test_download_rejects_misaligned_files(download, tmp_path):
    def short_labels(url: str) -> bytes:
        return b"0\n" if url.endswith("_labels.txt") else b"one\ntwo\n"

    with pytest.raises(StanceError, match="1 labels for 2 lines"):
        download.download(tmp_path / "t", fetch=short_labels)


def test_download_offline_is_a_clear_error(download, tmp_path, capsys):
    # Port 9 on localhost refuses the connection at once, like a machine without a network.
    with pytest.raises(StanceError, match="offline"):
        download.fetch_url("http://127.0.0.1:9/mapping.txt", timeout=5)

    def offline(url: str, timeout: float = 30.0) -> bytes:
        return download.fetch_url("http://127.0.0.1:9/" + url.rsplit("/", 1)[-1], timeout=5)

    with pytest.raises(SystemExit) as exit_:
        download.main(["--out", str(tmp_path / "t")], fetch=offline)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "offline" in err and "Traceback" not in err
    assert not any((tmp_path / "t").rglob("*.txt"))


# -- launchers and sweeps ---------------------------------------------------------------------
def compose_train(*overrides: str):
    """configs/train.yaml with the hydra node, as a launcher sees it."""
    return compose_cfg("train", list(overrides), return_hydra_config=True)


def test_slurm_launcher_settings_reach_sbatch(tmp_path, monkeypatch):
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\n")
    (fake_bin / "srun").chmod(0o755)  # submitit refuses to build a SLURM executor without srun
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    monkeypatch.setenv("STANCE_SLURM_PARTITION", "a100")
    cfg = compose_train("hydra/launcher=slurm", "hydra.launcher.timeout_min=45")
    params = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)
    params.pop("_target_")
    folder = str(tmp_path / "submitit")
    # The submitit plugin's own mapping: queue-independent keys as is, the rest slurm_-prefixed.
    executor = submitit.AutoExecutor(
        cluster="slurm", folder=folder, slurm_max_num_timeout=params.pop("max_num_timeout")
    )
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    params.pop("submitit_folder")
    params["name"] = "train"
    partition = OmegaConf.select(cfg, "hydra.launcher.partition")
    params["partition"] = partition
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()})
    sbatch = executor._executor._make_submission_file_text("python train.py", "uid")
    for line in ("--partition=a100", "--time=45", "--gpus-per-node=1", "--cpus-per-task=8"):
        assert f"#SBATCH {line}\n" in sbatch


def tiny_csv(folder: Path) -> None:
    """The shared tiny corpus of the training tests as ``folder/tiny.csv`` (TINY reads its text
    and label columns)."""
    write_csv(tiny_dataset(), folder / "tiny.csv")


def run_train(*overrides: str) -> None:
    """scripts/train.py in this process and the current folder (outputs land there)."""
    run_script_in_process("train", [*overrides, *TINY])


# Fast settings: the tiny CSV through the user-CSV template, no character n-grams, few resamples.
TINY = (
    "dataset=csv_template",
    "dataset.path=tiny.csv",
    "model.char_ngrams=null",
    "evaluation.bootstrap=50",
)


def records(sweep: Path) -> dict[str, dict]:
    """``run.json`` of every run under ``sweep``, keyed by model name and seed."""
    found = {}
    for path in sweep.rglob("run.json"):
        record = json.loads(path.read_text())
        found[f"{record['model']}-{record['seed']}"] = record | {"path": path}
    return found


def test_sweep_through_submitit_local_resumes_and_compares(tmp_path, monkeypatch):
    from stance.compare import compare
    from stance.data import ensure_dataset
    from test_compare import settings

    tiny_csv(tmp_path)
    # The configs' relative paths (tiny.csv, data/processed) resolve here.
    monkeypatch.chdir(tmp_path)
    # Build the dataset once up front: parallel jobs must not all build it at the same moment.
    ensure_dataset(compose_train(*TINY).dataset, "data/processed")
    sweep = ("-m", "sweep_name=s", "model=tfidf_logreg,tfidf_svm", "seed=1")
    run_train(*sweep, "hydra/launcher=local")
    first = records(tmp_path / "multirun" / "s")
    assert sorted(first) == ["tfidf_logreg-1", "tfidf_svm-1"]
    assert all(r["status"] == "complete" for r in first.values())
    assert len(list((tmp_path / "multirun" / "s" / ".submitit").glob("*/*_result.pkl"))) == 2

    # Crash one run (its record says failed); a rerun redoes it and skips the complete one. The
    # launcher is not part of the run folder's name, so the in-process launcher finds the same
    # folders (and is faster here).
    crashed = first["tfidf_svm-1"]["path"]
    crashed.write_text(json.dumps(first["tfidf_svm-1"] | {"status": "failed", "path": None}))
    run_train(*sweep)
    second = records(tmp_path / "multirun" / "s")
    assert second["tfidf_logreg-1"]["started"] == first["tfidf_logreg-1"]["started"]
    assert second["tfidf_svm-1"]["status"] == "complete"
    assert second["tfidf_svm-1"]["started"] >= first["tfidf_svm-1"]["ended"]

    [section] = compare(settings(tmp_path, f"runs=[{tmp_path / 'multirun'}]"))
    assert sorted(section.table["config"]) == ["model=tfidf_logreg", "model=tfidf_svm"]
    assert section.table["seeds"].tolist() == [1, 1]


def test_optuna_search_returns_validation_f_avg(tmp_path, monkeypatch):
    tiny_csv(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_train("+hparams_search=tfidf_optuna", "hydra.sweeper.n_trials=2")
    study = next((tmp_path / "multirun").rglob("optimization_results.yaml"))
    best = OmegaConf.load(study).best_value
    trials = [json.loads(p.read_text()) for p in (tmp_path / "multirun").rglob("metrics.json")]
    assert len(trials) == 2
    assert best == pytest.approx(max(t["validation/f_avg"] for t in trials))


@pytest.mark.parametrize(
    "search", sorted(p.stem for p in (ROOT / "configs/hparams_search").glob("*.yaml"))
)
def test_every_search_space_key_exists_in_its_model(search):
    cfg = compose_train(f"+hparams_search={search}")
    assert cfg.optimized_metric == "validation/f_avg"
    assert cfg.hydra.sweeper.direction == "maximize"
    for key in cfg.hydra.sweeper.params:
        # A misspelt key would only fail at the first trial, after the sweep has started.
        assert OmegaConf.select(cfg, key, default=None) is not None, key


@pytest.mark.parametrize(
    "experiment", sorted(p.stem for p in (ROOT / "configs/experiment").glob("*.yaml"))
)
def test_every_experiment_composes(experiment):
    cfg = compose_train(f"+experiment={experiment}", "seed=1")
    for key in cfg.hydra.sweeper.params or {}:
        assert key == "seed" or OmegaConf.select(cfg, key, default=None) is not None, key
    if cfg.model.name.startswith("ensemble"):
        # Each seed's ensemble takes the members of that seed (run folders name it seed=1, or
        # seed-1 after runs.slug); a deterministic member (the hybrid) has no seed at all.
        members = [str(m) for m in cfg.model.members]
        assert all(m.endswith(("seed=1", "seed-1")) or "seed" not in m for m in members)
        assert any(m.endswith(("seed=1", "seed-1")) for m in members)
