"""Writing labelled rows as JSONL, CSV or Parquet, one unit at a time, and resuming a file.

A unit (a document's paragraph rows and its document row, or a lone paragraph) is written and
flushed whole, so a killed run leaves complete units plus at most one partial one, which the
rerun cuts off before it skips the units already there. Parquet cannot be appended to: units go
to part files in ``<output>.parts/``, merged into ``<output>`` when the run ends.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from stance.errors import StanceError, problem

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
META_SUFFIX = ".stance.json"  # <output>.stance.json: which model and rule wrote the output
BASE_COLUMNS = ("level", "doc_id", "id", "paragraph", "target", "text", "label", "unseen_target")
COUNT_COLUMNS = ("paragraphs", "paragraphs_used", "rule")
PART_ROWS = 5_000  # Parquet rows per part file


def output_format(path: str | None, declared: str | None) -> str:
    """The output's format: declared, else from the extension, else JSONL."""
    fmt = declared or (
        Path(path).suffix.lower().lstrip(".") if path not in (None, "-") else "jsonl"
    )
    if fmt not in OUTPUT_FORMATS:
        raise StanceError(
            problem(str(path), f"unknown output format {fmt!r}", f"use one of {OUTPUT_FORMATS}")
        )
    return fmt


def flat(row: dict[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    """A row with its probabilities as ``proba_<label>`` columns (CSV, Parquet)."""
    record = {k: row.get(k) for k in (*BASE_COLUMNS, *COUNT_COLUMNS)}
    record.update({f"proba_{c}": row["proba"][c] for c in classes})
    return record


def columns(classes: Sequence[str]) -> list[str]:
    """The columns of a CSV or Parquet output, in order."""
    return [*BASE_COLUMNS, *(f"proba_{c}" for c in classes), *COUNT_COLUMNS]


class Writer:
    """Writes units to ``path`` (None or "-": stdout) and knows the units already there."""

    def __init__(self, path: str | None, fmt: str, classes: Sequence[str], meta: dict,
                 resume: bool = True) -> None:  # fmt: skip
        self.fmt, self.classes = fmt, list(classes)
        self.path = None if path in (None, "-") else Path(path)
        self.done: set[str] = set()
        self.rows = 0
        self._parts: list[dict] = []
        if self.path is None:
            self._out: TextIO | None = sys.stdout
            self._header = fmt == "csv"
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta_path = self.path.with_name(self.path.name + META_SUFFIX)
        existing = self.path.exists() or self._parts_dir.exists()
        if existing and resume:
            self._check_meta(meta_path, meta)
            self.done = self._resume()
        else:
            self._clear()
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        self._header = fmt == "csv" and not (self.path.exists() and self.path.stat().st_size)
        self._out = None if fmt == "parquet" else self.path.open("a", encoding="utf-8", newline="")

    @property
    def _parts_dir(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".parts")

    def _check_meta(self, meta_path: Path, meta: dict) -> None:
        try:
            before = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            before = None
        if before != meta:
            what = (
                "exists and was not written by predict.py"
                if before is None
                else f"was written with other settings ({meta_path.name}: {before})"
            )
            fix = "give another output=, delete it, or pass resume=false to overwrite it"
            raise StanceError(problem(str(self.path), what, fix))

    def _clear(self) -> None:
        assert self.path is not None
        self.path.unlink(missing_ok=True)
        shutil.rmtree(self._parts_dir, ignore_errors=True)

    def _resume(self) -> set[str]:
        """Keys of the complete units already written; a trailing partial unit is cut off."""
        assert self.path is not None
        if self.fmt == "parquet":
            if self.path.exists():  # a finished output: continue it as the first part
                self._parts_dir.mkdir(exist_ok=True)
                self.path.rename(self._parts_dir / "part-00000.parquet")
            done: set[str] = set()
            for part in sorted(self._parts_dir.glob("part-*.parquet")):
                table = pq.read_table(part, columns=["level", "doc_id", "id"])
                done.update(_keys(table.to_pylist()))
            return done
        records = _jsonl_records(self.path) if self.fmt == "jsonl" else _csv_records(self.path)
        done, end = set(), 0
        for record, offset in records:
            key = _key(record)
            if key is not None:
                done.add(key)
                end = offset
        with self.path.open("r+b") as fh:
            fh.truncate(end)
        return done

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Write one unit's rows and flush them."""
        self.rows += len(rows)
        if self.fmt == "parquet":
            self._parts += [flat(r, self.classes) for r in rows]
            if len(self._parts) >= PART_ROWS:
                self._flush_part()
            return
        assert self._out is not None
        buffer = io.StringIO()
        if self.fmt == "jsonl":
            buffer.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            writer = csv.DictWriter(buffer, fieldnames=columns(self.classes), lineterminator="\n")
            if self._header:
                writer.writeheader()
                self._header = False
            writer.writerows(flat(r, self.classes) for r in rows)
        self._out.write(buffer.getvalue())
        self._out.flush()

    def _flush_part(self) -> None:
        if not self._parts:
            return
        self._parts_dir.mkdir(exist_ok=True)
        number = len(list(self._parts_dir.glob("part-*.parquet")))
        table = pa.Table.from_pylist(self._parts, schema=_schema(self.classes))
        temp = self._parts_dir / f".part-{number:05d}.tmp"
        pq.write_table(table, temp)
        temp.rename(self._parts_dir / f"part-{number:05d}.parquet")  # a part is whole or absent
        self._parts = []

    def close(self) -> None:
        """Finish the output (Parquet: merge the parts into one file)."""
        if self.fmt != "parquet":
            if self._out is not None and self._out is not sys.stdout:
                self._out.close()
            return
        self._flush_part()
        assert self.path is not None
        parts = sorted(self._parts_dir.glob("part-*.parquet"))
        temp = self.path.with_name(self.path.name + ".tmp")
        with pq.ParquetWriter(temp, _schema(self.classes)) as out:
            for part in parts:
                out.write_table(pq.read_table(part, schema=_schema(self.classes)))
        temp.replace(self.path)
        shutil.rmtree(self._parts_dir, ignore_errors=True)


def _schema(classes: Sequence[str]) -> pa.Schema:
    types = {"paragraph": pa.int64(), "paragraphs": pa.int64(), "paragraphs_used": pa.int64(),
             "unseen_target": pa.bool_()}  # fmt: skip
    return pa.schema(
        [
            (c, pa.float64() if c.startswith("proba_") else types.get(c, pa.string()))
            for c in columns(classes)
        ]
    )


def _key(record: dict[str, Any]) -> str | None:
    """The unit a record completes: a document row, or a paragraph without a document."""
    if record.get("level") == "document":
        return str(record["doc_id"])
    if record.get("level") == "paragraph" and record.get("doc_id") in (None, ""):
        return str(record["id"])
    return None


def _keys(records: list[dict[str, Any]]) -> Iterator[str]:
    return (k for k in map(_key, records) if k is not None)


def _jsonl_records(path: Path) -> Iterator[tuple[dict, int]]:
    """Each complete JSON line and the byte offset just after it."""
    offset = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                return  # cut off mid-line
            offset += len(line)
            try:
                yield json.loads(line), offset
            except json.JSONDecodeError:
                return


def _csv_records(path: Path) -> Iterator[tuple[dict, int]]:
    """Each complete CSV record and the byte offset just after it (quoted newlines included)."""
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        with path.open("rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    return
                consumed += len(raw)
                yield raw.decode("utf-8")

    reader = csv.DictReader(lines())
    try:
        for record in reader:  # csv reads only the lines of one record before yielding it
            yield record, consumed
    except csv.Error:
        return
