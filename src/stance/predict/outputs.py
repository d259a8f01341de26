"""Writing labelled rows as JSONL, CSV, Parquet or xlsx, one unit at a time, and resuming a file.

A unit (a document's paragraph rows and its document row, or a lone paragraph) is written and
flushed whole into a work file beside the output (``.<output>.partial``), renamed over
``<output>`` when the run ends: a killed run leaves the work file with complete units plus at
most one partial one, which the rerun cuts off before it skips the units already there, and an
earlier output stays as it was until the new one is whole. Parquet cannot be appended to: units go
to part files in ``<output>.parts/``; an xlsx's go to the work file as JSON lines
(``stance.predict.workbook``). Rows are written as ``stance.predict.columns`` says.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from stance import folders
from stance.errors import StanceError, problem
from stance.predict import workbook
from stance.predict.columns import View

OUTPUT_FORMATS = ("jsonl", "csv", "parquet", "xlsx")
META_SUFFIX = ".stance.json"  # <output>.stance.json: which model and rule wrote the output
PART_ROWS = 5_000  # Parquet rows per part file
BOM = "\ufeff"  # excel=true: Excel reads a CSV as UTF-8 only when it starts with one


def output_format(path: str | None, declared: str | None) -> str:
    """The output's format: declared, else from the extension, else JSONL."""
    fmt = declared or (
        Path(path).suffix.lower().lstrip(".") if path not in (None, "-") else "jsonl"
    )
    if fmt not in OUTPUT_FORMATS:
        raise StanceError(
            problem(str(path), f"unknown output format {fmt!r}", f"use one of {OUTPUT_FORMATS}")
        )
    if fmt in ("parquet", "xlsx") and path in (None, "-"):
        fix = f"give output=FILE.{fmt}, or output_format=jsonl or csv for stdout"
        what = f"{'Parquet' if fmt == 'parquet' else 'An xlsx workbook'} cannot go to stdout"
        raise StanceError(problem(f"output_format={fmt}", what, fix))
    return fmt


class Writer:
    """Writes units to ``path`` (None or "-": stdout) and knows the units already there.

    Rows go to a work file beside ``path`` (``.<name>.partial``; Parquet: part files in
    ``<name>.parts/``) that ``close`` renames over ``path``: until then an earlier output is as it
    was. A rerun continues the work file a killed run left, or a copy of a finished output; a run
    that ends before its first row creates nothing. ``words``: the dataset's word for each of
    ``classes`` (``stance.predict.columns``); ``excel``: a CSV starts with a BOM."""

    def __init__(self, path: str | None, fmt: str, classes: Sequence[str], meta: dict,
                 resume: bool = True, words: dict[str, str] | None = None,
                 excel: bool = False) -> None:  # fmt: skip
        self.fmt, self.classes, self.meta = fmt, list(classes), meta
        self.view, self.excel = View(classes, words), excel
        self.path = None if path in (None, "-") else Path(path)
        self.done: set[str] = set()
        self.rows = 0
        self._parts: list[dict] = []
        self._out: TextIO | None = None
        self._base: Path | None = None  # a finished output this run continues (copied first)
        self._keep = 0  # bytes of the base or work file that hold complete units
        self._started = self.path is None  # the work file (or part folder) is this run's
        if self.path is None:
            self._out, self._header = sys.stdout, fmt == "csv"
            return
        if resume and self._work_has_rows():
            self._check_meta(self._work_meta, self._work, "an interrupted run's output")
            self.done, self._started = self._resume(self._work), True
        else:
            self._clear_work()
            if resume and self.path.exists():
                self._check_meta(self.path.with_name(self.path.name + META_SUFFIX), self.path, "")
                self.done, self._base = self._resume(self.path), self.path
        self._header = fmt == "csv" and not self._keep

    @property
    def _work(self) -> Path:
        assert self.path is not None
        if self.fmt == "parquet":
            return self.path.with_name(self.path.name + ".parts")
        return self.path.with_name(f".{self.path.name}.partial")

    @property
    def _work_meta(self) -> Path:
        if self.fmt == "parquet":
            return self._work / META_SUFFIX
        return self._work.with_name(self._work.name + META_SUFFIX)

    def _work_has_rows(self) -> bool:
        if self.fmt == "parquet":
            return any(self._work.glob("part-*.parquet"))
        return self._work.is_file() and self._work.stat().st_size > 0

    def _check_meta(self, meta_path: Path, output: Path, what: str) -> None:
        try:
            before = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            before = None
        if before != self.meta:
            named = f"{what} ({output}) " if what else ""
            what = (
                f"{named}exists and was not written by predict.py"
                if before is None
                else f"{named}was written with other settings ({meta_path.name}: {before})"
            )
            fix = "give another output=, delete it, or pass resume=false to overwrite it"
            raise StanceError(problem(str(self.path), what, fix))

    def _clear_work(self) -> None:
        self._work_meta.unlink(missing_ok=True)
        shutil.rmtree(self._work, ignore_errors=True)  # a part folder
        self._work.unlink(missing_ok=True)  # a work file

    def _resume(self, source: Path) -> set[str]:
        """Keys of the complete units in ``source``; a trailing partial unit is left out (cut
        off the work file; a finished output is copied without it)."""
        if self.fmt == "parquet":
            files = [source] if source.is_file() else sorted(source.glob("part-*.parquet"))
            tables = (pq.read_table(f, columns=["level", "doc_id", "id"]) for f in files)
            return {key for table in tables for key in _keys(table.to_pylist())}
        if self.fmt == "xlsx" and source == self.path:  # a finished workbook
            records = ((r, 0) for r in workbook.read_back(source, self.view))
        elif self.fmt == "csv":
            records = _csv_records(source)
        else:
            records = _jsonl_records(source)
        done, end = set(), 0
        for record, offset in records:
            key = _key(record)
            if key is not None:
                done.add(key)
                end = offset
        self._keep = end
        if source == self._work:
            os.truncate(source, end)
        return done

    def _start(self) -> None:
        """Create the work file (or part folder) from the base, and its settings file."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "parquet":
            self._work.mkdir(exist_ok=True)
        self._work_meta.write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")
        if self.fmt == "parquet" and self._base is not None:
            first = self._work / "part-00000.parquet"
            try:
                os.link(self._base, first)  # parts are never changed: a link is a copy
            except OSError:
                shutil.copyfile(self._base, first)
        elif self.fmt == "xlsx" and self._base is not None:
            with self._work.open("w", encoding="utf-8") as fh:
                fh.writelines(_line(r) for r in workbook.read_back(self._base, self.view))
        elif self._base is not None:
            shutil.copyfile(self._base, self._work)
            os.truncate(self._work, self._keep)
        elif self.fmt != "parquet":
            self._work.touch()
        self._started = True

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Write one unit's rows and flush them."""
        self.rows += len(rows)
        rows = [self.view.present(r) for r in rows]
        if self.fmt == "parquet":
            self._parts += [self.view.flat(r) for r in rows]
            if len(self._parts) >= PART_ROWS:
                self._flush_part()
            return
        if self._out is None:
            if not self._started:
                self._start()
            self._out = self._work.open("a", encoding="utf-8", newline="")
        buffer = io.StringIO()
        if self.fmt == "jsonl":
            buffer.writelines(_line(row) for row in rows)
        elif self.fmt == "xlsx":
            buffer.writelines(_line(self.view.flat(row)) for row in rows)
        else:
            writer = csv.DictWriter(buffer, fieldnames=self.view.columns(), lineterminator="\n")
            if self._header:
                buffer.write(BOM if self.excel else "")
                writer.writeheader()
                self._header = False
            writer.writerows(self.view.flat(r) for r in rows)
        self._out.write(buffer.getvalue())
        self._out.flush()

    def _flush_part(self) -> None:
        if not self._parts:
            return
        if not self._started:
            self._start()
        number = len(list(self._work.glob("part-*.parquet")))
        table = pa.Table.from_pylist(self._parts, schema=self.view.schema())
        temp = self._work / f".part-{number:05d}.tmp"
        pq.write_table(table, temp)
        temp.rename(self._work / f"part-{number:05d}.parquet")  # a part is whole or absent
        self._parts = []

    def abandon(self) -> None:
        """The run failed: keep what was written for the rerun to continue (nothing if no row)."""
        if self._out is not None and self._out is not sys.stdout:
            self._out.close()
        if self.fmt == "parquet" and self.path is not None:
            with contextlib.suppress(OSError):
                self._flush_part()  # complete units, held in memory until now

    def close(self) -> None:
        """Finish the output: rename the work file over ``path`` (Parquet: merge the parts)."""
        if self.path is None:
            return
        if self._out is not None:
            self._out.close()
        self._flush_part()
        if self._base is not None and not self._started:
            return  # a finished output and nothing new: it stays as it is
        if not self._started:
            self._start()  # no row at all: an empty output
        final = self._work
        if self.fmt == "parquet":
            final = self._work / ".merged.tmp"
            with pq.ParquetWriter(final, self.view.schema()) as out:
                for part in sorted(self._work.glob("part-*.parquet")):
                    out.write_table(pq.read_table(part, schema=self.view.schema()))
        elif self.fmt == "xlsx":
            final = self._work.with_name(self._work.name + ".xlsx")
            workbook.write_workbook(self._work, final, self.view)
        with folders.replaced(self.path.with_name(self.path.name + META_SUFFIX)) as meta:
            meta.write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")
        os.replace(final, self.path)
        self._clear_work()


def _line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


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
                yield raw.decode("utf-8-sig" if consumed == len(raw) else "utf-8")  # excel=true

    reader = csv.DictReader(lines())
    try:
        for record in reader:  # csv reads only the lines of one record before yielding it
            yield record, consumed
    except csv.Error:
        return
