"""One input labelled as N shards (``shard=i num_shards=N``), and the shards merged into one output.

A unit (a document's rows, or a lone paragraph) belongs to shard ``blake2b(key) mod N``, its
key being its doc_id (else its id): the rows of one article stay in one shard, a ``.txt`` article
is placed by its name without being read, and every machine agrees. Shard i writes
``<stem>.shard-<i>-of-<N><suffix>`` and resumes on its own. ``merge=true`` (the same command,
without ``shard``) reads the input again for the order of its units and copies each unit from
its shard, so the merged output is the file an unsharded run writes, byte for byte (JSONL, CSV;
Parquet: the same rows); a missing, unfinished or doubled shard stops it before anything is
written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stance import folders
from stance.errors import StanceError, problem
from stance.predict.outputs import META_SUFFIX, PART_ROWS, _csv_records, _jsonl_records, _key

MERGEABLE = ("jsonl", "csv", "parquet")
SHARD_KEYS = ("shard", "num_shards")  # in a shard's .stance.json, left out of the merged one


def shard_of(key: str, num_shards: int) -> int:
    """The shard of the unit ``key`` (a doc_id, or a lone paragraph's id)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


def shard_path(output: str | Path, shard: int, num_shards: int) -> Path:
    """``labels.csv`` -> ``labels.shard-0-of-3.csv``."""
    path = Path(output)
    return path.with_name(f"{path.stem}.shard-{shard}-of-{num_shards}{path.suffix}")


def check_sharding(shard: int, num_shards: int, output: str | None, fmt: str) -> None:
    """Stop, before anything is read or written, on a shard that cannot be merged."""
    if num_shards < 1 or not 0 <= shard < num_shards:
        what = f"shard={shard} num_shards={num_shards}: shards are numbered 0 to num_shards-1"
        fix = "run shard=0 to N-1 with the same num_shards=N: -m shard='range(3)' num_shards=3"
        raise StanceError(problem("shard", what, fix))
    if num_shards == 1:
        return
    if output in (None, "-"):
        fix = "give output=FILE: shard i writes FILE with .shard-<i>-of-<N> before its suffix"
        raise StanceError(problem("num_shards", "shards cannot go to stdout", fix))
    if fmt not in MERGEABLE:
        fix = f"shard into one of {', '.join(MERGEABLE)}; convert the merged output afterwards"
        raise StanceError(problem(f"output={output}", f"{fmt} shards cannot be merged", fix))


def merge_shards(output: str | Path, fmt: str, num_shards: int, order: Iterator[str]) -> int:
    """Write ``output`` from its shards, the units in ``order`` (the input's unit keys); returns
    the units written."""
    if fmt not in MERGEABLE:
        fix = f"merge into one of {', '.join(MERGEABLE)}"
        raise StanceError(problem(f"output={output}", f"{fmt} shards cannot be merged", fix))
    paths = find_shards(Path(output), num_shards)
    meta = _common_meta(paths)
    streams = [_units(path, fmt) for path in paths]
    heads = [next(stream) for stream in streams]  # CSV: the header line; else b""
    header = next((h for h in heads if h), heads[0])
    written = 0
    with folders.replaced(output) as tmp:
        with tmp.open("wb") as out:
            if fmt == "parquet":
                written = _merge_parquet(out, paths, streams, order)
            else:
                out.write(header)
                for key in order:
                    out.write(_take(paths, streams, key))
                    written += 1
        for path, stream in zip(paths, streams, strict=True):
            extra = next(stream, None)
            if extra is not None:
                raise _doubled(path, extra[0] if isinstance(extra, tuple) else None)
    with folders.replaced(Path(output).with_name(Path(output).name + META_SUFFIX)) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return written


def find_shards(output: Path, num_shards: int) -> list[Path]:
    """The N shard outputs of ``output`` in order; stops on a missing, unfinished or doubled one
    (``num_shards`` 1: N is what the files say)."""
    name = re.compile(rf"{re.escape(output.stem)}\.shard-(\d+)-of-(\d+){re.escape(output.suffix)}")
    found: dict[tuple[int, int], Path] = {}
    for path in output.parent.glob(f"{output.stem}.shard-*-of-*{output.suffix}"):
        match = name.fullmatch(path.name)
        if match:
            found[(int(match[1]), int(match[2]))] = path
    counts = sorted({n for _, n in found})
    if not found:
        what = f"no shard outputs ({shard_path(output, 0, max(num_shards, 2)).name}, ...) to merge"
        fix = "run the shards first: python scripts/predict.py -m shard='range(N)' num_shards=N ..."
        raise StanceError(problem(f"output={output}", what, fix))
    n = num_shards if num_shards > 1 else counts[-1]
    others = sorted(p.name for (_, count), p in found.items() if count != n)
    if others:
        what = f"{', '.join(others)} split the input other than into {n} shards: doubled shards"
        fix = "move or delete the shards of the other run (or give num_shards= of the one to merge)"
        raise StanceError(problem(f"output={output}", what, fix))
    missing = [i for i in range(n) if (i, n) not in found]
    if missing:
        fix = (
            f"run shard={','.join(map(str, missing))} num_shards={n} with the command of the "
            "other shards (an interrupted shard resumes), then merge again"
        )
        described = [_missing(shard_path(output, i, n)) for i in missing]
        raise StanceError(problem(f"output={output}", "; ".join(described), fix))
    return [found[(i, n)] for i in range(n)]


def _missing(path: Path) -> str:
    work = [path.with_name(f".{path.name}.partial"), path.with_name(f"{path.name}.parts")]
    if any(w.exists() for w in work):
        return f"{path.name} is unfinished (its run was stopped)"
    return f"{path.name} is missing"


def _common_meta(paths: list[Path]) -> dict[str, Any]:
    """The settings every shard was written with (less the shard keys); stops when they differ."""
    common: dict[str, Any] | None = None
    for i, path in enumerate(paths):
        meta_path = path.with_name(path.name + META_SUFFIX)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            fix = "run that shard again with predict.py (resume=false)"
            raise StanceError(problem(str(path), "was not written by predict.py", fix)) from None
        if [meta.get(k) for k in SHARD_KEYS] != [i, len(paths)]:
            what = f"{meta_path.name} says shard {meta.get('shard')} of {meta.get('num_shards')}"
            raise StanceError(problem(str(path), what, "run that shard again (resume=false)"))
        rest = {k: v for k, v in meta.items() if k not in SHARD_KEYS}
        if common is not None and rest != common:
            what = f"was written with other settings than {paths[0].name} ({rest} != {common})"
            fix = "run every shard with the same model and settings"
            raise StanceError(problem(str(path), what, fix))
        common = rest
    assert common is not None
    return common


def _units(path: Path, fmt: str) -> Iterator[Any]:
    """First the bytes before the first unit (a CSV header), then (key, the unit's bytes) per
    unit; Parquet: (key, rows). A trailing incomplete unit comes as (None, its bytes)."""
    if fmt == "parquet":
        yield b""
        rows: list[dict[str, Any]] = []
        for batch in pq.ParquetFile(path).iter_batches():
            for row in batch.to_pylist():
                rows.append(row)
                key = _key(row)
                if key is not None:
                    yield key, rows
                    rows = []
        if rows:
            yield None, rows
        return
    records = _jsonl_records(path) if fmt == "jsonl" else _csv_records(path)
    with path.open("rb") as fh:
        yield fh.readline() if fmt == "csv" else b""
        for record, end in records:
            key = _key(record)
            if key is not None:
                yield key, fh.read(end - fh.tell())
        rest = fh.read()
        if rest:
            yield None, rest


def _take(paths: list[Path], streams: list[Iterator[Any]], key: str) -> Any:
    """The next unit of ``key``'s shard, which must be ``key``."""
    i = shard_of(key, len(paths))
    got = next(streams[i], None)
    if got is None or got[0] != key:
        found = "ends" if got is None else f"has {got[0]!r} there"
        what = (
            f"{key!r} of the input is not next in {paths[i].name} ({found}): the input changed "
            "since the shards ran, or they ran on another input"
        )
        fix = f"rerun shard={i} num_shards={len(paths)} with resume=false on this input"
        raise StanceError(problem(str(paths[i]), what, fix))
    return got[1]


def _merge_parquet(
    out: Any, paths: list[Path], streams: list[Iterator[Any]], order: Iterator[str]
) -> int:
    schema = pq.read_schema(paths[0])
    written, rows = 0, []
    with pq.ParquetWriter(out, schema) as writer:
        for key in order:
            rows += _take(paths, streams, key)
            written += 1
            if len(rows) >= PART_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    return written


def _doubled(path: Path, key: str | None) -> StanceError:
    what = (
        f"holds {key!r} and more after the input's last document of its shard: a document "
        "doubled, or one no longer in the input"
        if key is not None
        else "ends in the middle of a document"
    )
    fix = "rerun that shard with resume=false on this input, then merge again"
    return StanceError(problem(str(path), what, fix))
