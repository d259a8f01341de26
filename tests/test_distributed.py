"""Data-parallel training: `torchrun --nproc_per_node=2` (gloo, CPU) on the tiny random BERT.

Every rank records the window indices it trained on and its weights at each checkpoint (the
callback in tests/ddp_recorder.py, injected as `model.callbacks`), so the tests can check the
shards and that gradients were synchronised, not only that the job finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ddp_recorder import read_steps
from fixtures import TOPICS, TOY_VOCAB, paragraphs
from models.conftest import tiny_bert  # noqa: F401  (the fixture)
from stance import distributed, runs
from train_helpers import CONFIGS, compose_cfg, run_script_in_process

ROOT = CONFIGS.parent
TRAIN_ROWS = 120  # a multiple of the global batch: no rank pads its last batch with repeats
PER_RANK = 4
STEPS_PER_EPOCH = TRAIN_ROWS // (2 * PER_RANK)
TRAINING = {
    "max_length": 32,
    "stride": 8,
    "batch_size": PER_RANK,
    "max_steps": 4 * STEPS_PER_EPOCH,
    "eval_steps": 5,
    "save_steps": 5,
    "logging_steps": 1000,
    "learning_rate": 0.01,
    "warmup_ratio": 0.0,
    "early_stopping_patience": None,
    "progress_bar": False,
    "class_weight": None,  # a weighted mean per rank is not the weighted mean of the batch
}
# Without dropout (each rank draws its own masks) one process with twice the batch computes the
# same updates as 2 ranks, up to the order of float sums: test probabilities and every metric
# agree within this (measured: 3e-8 mean, ECE 1.4e-6; the per-rank batch alone: 0.04-0.1 away).
PROBA_TOLERANCE = 1e-4


def write_corpus(path: Path) -> list[str]:
    """Paragraphs in the tiny BERT's vocabulary, split given per row; returns the overrides."""
    rows = []
    for seed, (split, n) in enumerate((("train", TRAIN_ROWS), ("validation", 40), ("test", 40))):
        for row in paragraphs(n, seed, noise=0.0, vocab=TOY_VOCAB, filler=6, policies=TOPICS):
            rows.append((row["id"], row["text"], row["label"], row["target"], split))
    pd.DataFrame(rows, columns=["id", "text", "label", "target", "split"]).to_csv(path, index=False)
    columns = [f"dataset.columns.{c}={c}" for c in ("id", "target", "split")]
    dataset = ["dataset=csv_template", "dataset.name=tiny", f"dataset.path={path}", *columns]
    dataset.append("dataset.labels=[anti,pro]")
    return [*dataset, "dataset.split.strategy=predefined", "evaluation.bootstrap=0"]


@pytest.fixture(scope="module")
def overrides(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> list[str]:  # noqa: F811
    """The train.py overrides of a tiny transformer run (the dataset is built from a CSV)."""
    folder = tmp_path_factory.mktemp("ddp-data")
    shutil.copytree(tiny_bert, folder / "bert")
    config = json.loads((folder / "bert" / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "bert" / "config.json").write_text(json.dumps(config))
    model = ["model=transformer", f"model.pretrained={folder / 'bert'}"]
    model += [f"model.{key}={json.dumps(value)}" for key, value in TRAINING.items()]
    return [*write_corpus(folder / "tiny.csv"), *model, f"paths.processed_root={folder}/processed"]


def command(ranks: int, overrides: list[str], run_dir: Path) -> list[str]:
    """torchrun with ``ranks`` ranks, or plain python for one process."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    launcher = [*launcher, f"--nproc_per_node={ranks}"] if ranks > 1 else [sys.executable]
    return [*launcher, "scripts/train.py", *overrides, f"hydra.run.dir={run_dir}"]


def recording(record: Path) -> str:
    """The override that makes every rank record into ``record`` (tests/ddp_recorder.py)."""
    return f"model.callbacks=[{{_target_:ddp_recorder.RankRecorder,folder:'{record}'}}]"


PYTHONPATH = [str(ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])]
ENVIRONMENT = {**os.environ, "PYTHONPATH": os.pathsep.join(PYTHONPATH)}  # imports the recorder


def launch(ranks: int, overrides: list[str], run_dir: Path, record: Path) -> str:
    """Run train.py to the end; returns its output (and fails the test with it on an error)."""
    return run_to_end(command(ranks, overrides, run_dir), record)


def run_to_end(argv: list[str], record: Path) -> str:
    """Run ``argv`` recording into ``record``; returns its output, fails the test on an error."""
    done = subprocess.run(
        [*argv, recording(record)],
        cwd=ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def weights(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file."""
    from safetensors.numpy import load_file

    return load_file(str(path))


def same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Bit-identical tensors under the same names."""
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory, overrides: list[str]) -> tuple[Path, Path]:
    """A 2-rank run to the end: (its folder under a fresh runs root, the ranks' records)."""
    root = tmp_path_factory.mktemp("ddp")
    launch(2, [*overrides, f"paths.runs_root={root}"], root / "run", root / "record")
    return root, root / "record"


def test_two_ranks_train_one_model_on_disjoint_shards(ddp_run: tuple[Path, Path]) -> None:
    root, record = ddp_run
    run_dir = root / "run"
    assert sorted(root.rglob(runs.RUN_FILE)) == [run_dir / runs.RUN_FILE]
    assert sorted(p.parent for p in root.rglob("stance_model.json")) == [run_dir / "model"]
    info = runs.read_run(run_dir)
    assert info["status"] == "complete" and info["world_size"] == 2
    assert not (run_dir / "checkpoints").exists()  # rank 0 removed them once every rank was done

    (rank0,), (rank1,) = read_steps(record, 0), read_steps(record, 1)
    assert rank0["data"] == rank1["data"]  # both ranks tokenised the same train split
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["windows"] == rank0["distinct"] == TRAIN_ROWS  # one window per row, none alike
    for epoch in range(TRAINING["max_steps"] // STEPS_PER_EPOCH):
        span = range(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH)
        shard0 = [w for step in span for w in rank0[step]]
        shard1 = [w for step in span for w in rank1[step]]
        assert len(shard0) == len(shard1) == TRAIN_ROWS // 2
        assert not set(shard0) & set(shard1)
        assert sorted(shard0 + shard1) == list(range(TRAIN_ROWS))

    saves = range(TRAINING["save_steps"], TRAINING["max_steps"] + 1, TRAINING["save_steps"])
    by_rank = [
        {s: weights(record / f"weights-rank{r}-step{s}.safetensors") for s in saves} for r in (0, 1)
    ]
    for step in saves:  # different data, same weights: the gradients were averaged
        assert same_weights(by_rank[0][step], by_rank[1][step]), step
    first, last = by_rank[1][saves[0]], by_rank[1][saves[-1]]
    assert not same_weights(first, last)  # and training moved them
    saved = weights(run_dir / "model" / "model.safetensors")
    assert any(same_weights(saved, by_rank[1][step]) for step in saves)


@pytest.mark.slow
def test_two_ranks_match_one_process_with_the_same_global_batch(
    ddp_run: tuple[Path, Path], overrides: list[str], tmp_path: Path
) -> None:
    root, record = ddp_run
    alone, per_rank_batch = tmp_path / "same", tmp_path / "half"
    launch(1, [*overrides, f"model.batch_size={2 * PER_RANK}"], alone / "run", alone / "record")
    launch(1, overrides, per_rank_batch / "run", per_rank_batch / "record")

    (one,) = read_steps(alone / "record", 0)
    (rank0,), (rank1,) = read_steps(record, 0), read_steps(record, 1)
    for step in range(TRAINING["max_steps"]):  # the global batches are the very same windows
        assert sorted(one[step]) == sorted(rank0[step] + rank1[step]), step
    ddp, single = runs.read_metrics(root / "run"), runs.read_metrics(alone / "run")
    assert single["validation/accuracy"] > 0.7  # learnt: the comparison says something
    for key, value in single.items():
        assert ddp[key] == pytest.approx(value, abs=PROBA_TOLERANCE, nan_ok=True), key
    proba = stored_test_proba(root / "run")
    assert np.abs(proba - stored_test_proba(alone / "run")).max() <= PROBA_TOLERANCE
    # the check can fail: half the global batch ends far outside the tolerance
    assert np.abs(proba - stored_test_proba(per_rank_batch / "run")).max() > 0.01


def stored_test_proba(run_dir: Path) -> np.ndarray:
    """The stored test-split probabilities of a run, one row per paragraph."""
    rows = runs.read_predictions(run_dir, "test")
    return np.array([[row["proba"][label] for label in sorted(row["proba"])] for row in rows])


@pytest.mark.slow
def test_killed_two_rank_run_resumes_from_its_last_checkpoint(
    ddp_run: tuple[Path, Path], overrides: list[str], tmp_path: Path
) -> None:
    root, straight_record = ddp_run
    args = [*overrides, f"paths.runs_root={tmp_path}", "model.keep_checkpoints=true"]
    run_dir, record = tmp_path / "run", tmp_path / "record"
    killed_at = 2 * TRAINING["save_steps"]
    job = subprocess.Popen(
        [*command(2, args, run_dir), recording(record)],
        cwd=ROOT,
        env=ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wanted = [record / f"weights-rank{r}-step{killed_at}.safetensors" for r in (0, 1)]
        deadline = time.monotonic() + 300
        while not all(p.is_file() for p in wanted) and job.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.02)
    finally:
        kill_tree(job)
    assert job.returncode == -signal.SIGKILL  # killed mid-training, not finished
    assert runs.read_run(run_dir)["status"] == "running"  # killed: nothing wrote a failure

    output = launch(2, args, run_dir, record)
    assert "found a running run; continuing" in output
    assert runs.is_complete(run_dir)
    straight = [read_steps(straight_record, r)[0] for r in (0, 1)]
    for rank in (0, 1):
        killed, resumed = read_steps(record, rank)
        first = min(k for k in resumed if isinstance(k, int))
        assert first >= killed_at and first % TRAINING["save_steps"] == 0
        assert f"(step {first})" in output
        assert max(k for k in killed if isinstance(k, int)) >= first - 1  # nothing was skipped
        for step in range(first, TRAINING["max_steps"]):  # the data order is replayed exactly
            assert resumed[step] == straight[rank][step], (rank, step)
    # restored optimizer, scheduler and every rank's RNG: the same result as without the kill
    ddp, again = runs.read_metrics(root / "run"), runs.read_metrics(run_dir)
    assert again.keys() == ddp.keys()
    for key, value in ddp.items():
        assert again[key] == pytest.approx(value, abs=1e-6, nan_ok=True), key


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["accelerate", "submitit"])
def test_accelerate_launch_and_submitit_tasks_train_one_model(
    launcher: str, overrides: list[str], ddp_run: tuple[Path, Path], tmp_path: Path
) -> None:
    args = [*overrides, f"paths.runs_root={tmp_path}"]
    if launcher == "accelerate":  # the README's command; --multi_gpu is what starts N ranks
        accelerate = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
        accelerate += ["--num_processes=2", "--num_machines=1", "--mixed_precision=no"]
        argv = [*accelerate, "--dynamo_backend=no", "scripts/train.py", *args]
        run_dir, argv = tmp_path / "run", [*argv, f"hydra.run.dir={tmp_path / 'run'}"]
    else:  # hydra/launcher=slurm_ddp's mechanics, with local processes instead of srun
        sweep = ["-m", "hydra/launcher=local", "hydra.launcher.tasks_per_node=2"]
        sweep += [f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.sweep.subdir=run"]
        run_dir = tmp_path / "sweep" / "run"
        argv = [sys.executable, "scripts/train.py", *sweep, *args]
    run_to_end(argv, tmp_path / "record")

    assert sorted(tmp_path.rglob(runs.RUN_FILE)) == [run_dir / runs.RUN_FILE]
    assert runs.read_run(run_dir)["world_size"] == 2 and runs.is_complete(run_dir)
    root, record = ddp_run  # the same two shards as under torchrun
    for rank in (0, 1):
        assert read_steps(tmp_path / "record", rank) == read_steps(record, rank)
    expected = runs.read_metrics(root / "run")
    assert runs.read_metrics(run_dir) == pytest.approx(expected, abs=1e-6, nan_ok=True)


def kill_tree(job: subprocess.Popen) -> None:
    """SIGKILL torchrun and its ranks (each rank runs in a session of its own), as a scheduler
    killing the job would."""
    import psutil

    launcher = psutil.Process(job.pid)
    for process in [*launcher.children(recursive=True), launcher]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    job.wait()


def test_linear_model_under_two_ranks_stops_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    argv = ["~dataset", "+dataset={name: tiny}", f"hydra.run.dir={tmp_path / 'run'}"]
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("train", argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "model=tfidf_logreg" in err and "2 ranks" in err and "python scripts/train.py" in err
    assert not (tmp_path / "run" / runs.RUN_FILE).exists()


def test_submitit_tasks_become_torch_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    torch_keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
    torch_keys += ("MASTER_ADDR", "MASTER_PORT")
    # a copy, so that what the export adds leaves with the test
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k not in torch_keys})
    task = {"JOB_ID": "4242", "NTASKS": "2", "JOB_NUM_NODES": "1", "NODEID": "0"}
    task |= {"GLOBALID": "1", "LOCALID": "1"}
    monkeypatch.setenv("SUBMITIT_EXECUTOR", "local")
    for key, value in task.items():
        monkeypatch.setenv(f"SUBMITIT_LOCAL_{key}", value)
    distributed.adopt_submitit_tasks()
    assert (os.environ["RANK"], os.environ["WORLD_SIZE"], os.environ["LOCAL_RANK"]) == (
        "1",
        "2",
        "1",
    )
    assert os.environ["MASTER_ADDR"] and int(os.environ["MASTER_PORT"]) > 0
    assert distributed.world_size() == 2 and not distributed.is_main()


def test_slurm_ddp_launcher_asks_for_one_task_per_gpu() -> None:
    from submitit.slurm.slurm import _make_sbatch_string

    cfg = compose_cfg("train", ["hydra/launcher=slurm_ddp", "hydra.launcher.gpus_per_node=4"], True)
    launcher = cfg.hydra.launcher
    assert launcher.tasks_per_node == launcher.gpus_per_node == 4
    script = _make_sbatch_string(
        command="python -m submitit.core._submit /x",
        folder="/tmp/x",
        gpus_per_node=launcher.gpus_per_node,
        ntasks_per_node=launcher.tasks_per_node,
        nodes=launcher.nodes,
    )
    assert "#SBATCH --gpus-per-node=4" in script and "#SBATCH --ntasks-per-node=4" in script
    assert "srun" in script  # every task runs the job: train() makes them ranks


def test_backend_choice() -> None:
    from stance.errors import StanceError

    assert distributed.resolve_backend("auto", cuda=False) == "gloo"
    assert distributed.resolve_backend("auto", cuda=True) == "nccl"
    with pytest.raises(StanceError, match=r"distributed\.backend=gloo"):
        distributed.resolve_backend("nccl", cuda=False)
    with pytest.raises(StanceError, match="unknown backend"):
        distributed.resolve_backend("mpi", cuda=False)
