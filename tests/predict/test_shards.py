"""One corpus as three jobs through Hydra's launcher, merged: the unsharded output, bytewise."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fixtures import ANTI, PRO
from stance.errors import StanceError
from stance.predict.shards import find_shards, shard_of
from train_helpers import run_script_in_process


def articles(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        cue = PRO[i % len(PRO)] if i % 2 else ANTI[i % len(ANTI)]
        text = f"Headline {i}\n\nWe {cue} the policy, said senator {i}.\n\nThey {cue} it too.\n"
        (folder / f"article-{i:03d}.txt").write_text(text)
    return folder


def table(path: Path, n: int) -> Path:
    """Documents of two or three rows, and lone rows without a doc_id."""
    lines = ["doc_id,text"]
    for i in range(n):
        cue = PRO[i % len(PRO)] if i % 3 else ANTI[i % len(ANTI)]
        lines += [f"d{i},We {cue} it."] * (2 + i % 2) + [f",They {cue} the plan {i}."]
    path.write_text("\n".join(lines) + "\n")
    return path


def predict(run_dir: Path, *args: str) -> None:
    flags = [a for a in args if a == "-m"]  # before the overrides, as on the command line
    rest = [a for a in args if a != "-m"]
    run_script_in_process("predict", [*flags, f"model={run_dir}", "progress=false", *rest])


@pytest.mark.parametrize(
    ("make", "name", "more"),
    [
        (articles, "labels.csv", []),
        (articles, "labels.csv", ["excel=true"]),  # the BOM stays at the start, once
        (table, "labels.jsonl", []),
        (articles, "labels.parquet", []),
    ],
)
def test_three_shards_through_the_launcher_merge_into_the_unsharded_output(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, make, name: str, more: list
) -> None:
    source = make(tmp_path / ("in" if make is articles else "in.csv"), 12)
    whole, out = tmp_path / "whole" / name, tmp_path / "sharded" / name
    predict(run_dir, f"input={source}", f"output={whole}", *more)
    # hydra/launcher=basic: the jobs one after another in this process (slurm: one SLURM job each)
    sweep = ["-m", "shard=range(3)", "num_shards=3", f"input={source}", f"output={out}", *more]
    predict(run_dir, *sweep)
    shards = find_shards(out, 3)
    assert [p.name for p in shards] == [f"labels.shard-{i}-of-3{out.suffix}" for i in range(3)]
    assert all(p.stat().st_size for p in shards)  # 12 documents: every shard has some
    assert not out.exists()
    predict(run_dir, "merge=true", f"input={source}", f"output={out}", *more)
    assert "merged" in capsys.readouterr().err
    if out.suffix == ".parquet":
        assert pq.read_table(out).to_pylist() == pq.read_table(whole).to_pylist()
    else:
        assert out.read_bytes() == whole.read_bytes()
    meta = ".stance.json"
    assert Path(f"{out}{meta}").read_bytes() == Path(f"{whole}{meta}").read_bytes()


def test_a_shard_keeps_each_document_whole_and_resumes_on_its_own(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source, out = table(tmp_path / "in.csv", 9), tmp_path / "labels.jsonl"
    predict(run_dir, "shard=1", "num_shards=2", f"input={source}", f"output={out}")
    shard = tmp_path / "labels.shard-1-of-2.jsonl"
    rows = [json.loads(line) for line in shard.read_text().splitlines()]
    docs = {r["doc_id"] for r in rows if r.get("doc_id")}
    assert docs and all(shard_of(d, 2) == 1 for d in docs)
    for doc in docs:  # every row of a document, and its document row, in this shard
        expected = 2 + int(doc[1:]) % 2
        assert sum(r.get("doc_id") == doc and r["level"] == "paragraph" for r in rows) == expected
    assert all(shard_of(r["id"], 2) == 1 for r in rows if not r.get("doc_id"))
    assert json.loads(Path(f"{shard}.stance.json").read_text())["num_shards"] == 2
    capsys.readouterr()
    predict(run_dir, "shard=1", "num_shards=2", f"input={source}", f"output={out}")
    assert "wrote 0 rows" in capsys.readouterr().err
    assert [json.loads(line) for line in shard.read_text().splitlines()] == rows


def test_merge_refuses_missing_unfinished_and_doubled_shards(run_dir: Path, tmp_path: Path) -> None:
    source, out = articles(tmp_path / "in", 6), tmp_path / "labels.csv"
    predict(run_dir, "-m", "shard=0,1,2", "num_shards=3", f"input={source}", f"output={out}")
    shard = tmp_path / "labels.shard-1-of-3.csv"
    shard.rename(tmp_path / ".labels.shard-1-of-3.csv.partial")  # as a killed job leaves it
    with pytest.raises(
        StanceError, match=r"(?s)labels.shard-1-of-3.csv is unfinished.*shard=1 num_shards=3"
    ):
        find_shards(out, 3)
    (tmp_path / ".labels.shard-1-of-3.csv.partial").unlink()
    with pytest.raises(StanceError, match=r"labels.shard-1-of-3.csv is missing"):
        find_shards(out, 0)
    predict(run_dir, "shard=1", "num_shards=3", f"input={source}", f"output={out}")
    predict(run_dir, "shard=0", "num_shards=2", f"input={source}", f"output={out}")
    with pytest.raises(StanceError, match=r"labels.shard-0-of-2.csv split .* doubled shards"):
        find_shards(out, 3)
    with pytest.raises(SystemExit) as stopped:  # the command says so too, and writes nothing
        predict(run_dir, "merge=true", f"input={source}", f"output={out}")
    assert stopped.value.code == 2 and not out.exists()


def test_a_shard_outside_zero_to_n_or_to_stdout_is_refused(run_dir: Path, tmp_path: Path) -> None:
    from stance.predict.shards import check_sharding

    with pytest.raises(StanceError, match="numbered 0 to num_shards-1"):
        check_sharding(3, 3, "labels.csv", "csv")
    with pytest.raises(StanceError, match="shards cannot go to stdout"):
        check_sharding(0, 2, None, "jsonl")
    with pytest.raises(StanceError, match="xlsx shards cannot be merged"):
        check_sharding(0, 2, "labels.xlsx", "xlsx")
