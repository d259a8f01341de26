"""Texts to label: ``.txt`` articles and csv/tsv/jsonl/parquet/xlsx tables, from a file, a
folder, a glob or stdin, as a stream of units (the paragraphs of one document, or a lone row).

A text's policy (target) is its table's ``target`` column, else the file's (stance.predict.policies:
a sidecar, then targets.csv), else ``target=``.
"""

from __future__ import annotations

import atexit
import glob
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stance.data.paragraphs import paragraph_id, split_paragraphs
from stance.data.readers import TABLE_SUFFIXES, TableSpec, header_of, read_table
from stance.data.records import setting_names
from stance.errors import StanceError, problem
from stance.predict.documents import WHERE
from stance.predict.policies import TARGET_SIDECAR, TARGETS_CSV, file_target

EXTENSIONS = {".txt": "txt", ".md": "txt", **TABLE_SUFFIXES}
INPUT_FORMATS = tuple(dict.fromkeys(EXTENSIONS.values()))
FIELDS = ("text", "id", "doc_id", "target")  # what a table may give; the rest is not read
ROWS_PER_SLICE = 10_000  # table rows turned into Python objects at a time
# predict.yaml's names for the reading settings, used in the readers' error messages
PREDICT_SETTINGS = {"format": "input_format", "sheet": "sheet", "columns": "columns",
                    "delimiter": "delimiter"}  # fmt: skip


@dataclass
class InputSpec:
    """How to read the input (the ``predict.yaml`` keys of the same names)."""

    path: str | None  # a file, a folder, a glob; None or "-" for stdin
    format: str | None = None  # from each file's extension when None
    columns: dict[str, str | None] = field(default_factory=lambda: {f: f for f in FIELDS})
    delimiter: str | None = None
    sheet: str | None = None


@dataclass
class Source:
    """One input file, the doc_id of its article (txt) and its format."""

    path: Path
    format: str
    name: str  # doc_id of a .txt article; the id prefix of a table's rows
    root: Path | None = None  # the input folder: targets.csv files up to here apply


def sources(spec: InputSpec) -> list[Source]:
    """The files ``spec.path`` names, in a stable order; stdin is copied to a temporary file."""
    if spec.path in (None, "-"):
        return [_stdin(spec.format or "txt")]
    given = Path(spec.path)
    if given.is_dir():
        files = sorted(p for p in given.rglob("*") if _wanted(p, spec.format))
        base = given
    elif glob.has_magic(spec.path):
        matched = map(Path, glob.glob(spec.path, recursive=True))
        files = sorted(p for p in matched if p.is_file() and not _policy_file(p))
        base = Path(os.path.commonpath([str(f.parent) for f in files])) if files else given
    elif given.is_file():
        files, base = [given], given.parent
    else:
        raise StanceError(problem(spec.path, "no such file, folder or glob", "check input="))
    if not files:
        fix = f"give .txt articles or tables ({', '.join(sorted(EXTENSIONS))})"
        raise StanceError(problem(spec.path, "matches no input file", fix))
    found = [Source(f, _format(f, spec.format), _name(f, base), base) for f in files]
    _unique_names(found)
    return found


def _wanted(path: Path, declared: str | None) -> bool:
    hidden = any(part.startswith(".") for part in path.parts[-1:])
    skip = hidden or _policy_file(path)
    return path.is_file() and not skip and (declared or path.suffix.lower() in EXTENSIONS)


def _policy_file(path: Path) -> bool:
    """A sidecar or a targets.csv: read for the policy of other files, never labelled."""
    return path.name == TARGETS_CSV or path.suffix == TARGET_SIDECAR


def _format(path: Path, declared: str | None) -> str:
    fmt = declared or EXTENSIONS.get(path.suffix.lower(), "")
    if fmt not in INPUT_FORMATS:
        raise StanceError(
            problem(
                str(path),
                f"unknown input format {fmt or path.suffix or '(no extension)'!r}",
                f"use .txt (one article per file) or a table ({', '.join(INPUT_FORMATS[1:])}), "
                "or set input_format",
            )
        )
    return fmt


def _name(path: Path, base: Path) -> str:
    """The file's path under ``base`` without its extension: ``2024/cuba-01``."""
    try:
        relative = path.relative_to(base)
    except ValueError:
        relative = Path(path.name)
    return relative.with_suffix("").as_posix()


def _unique_names(found: list[Source]) -> None:
    seen: dict[str, Path] = {}
    for source in found:
        if source.name in seen:
            what = f"this and {seen[source.name]} both give the document name {source.name!r}"
            raise StanceError(problem(str(source.path), what, "rename one, or label them apart"))
        seen[source.name] = source.path


def _stdin(fmt: str) -> Source:
    _format(Path("stdin"), fmt)
    data = sys.stdin.read().encode("utf-8")
    suffix = next(ext for ext, f in EXTENSIONS.items() if f == fmt)
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False) as fh:
        fh.write(data)
    atexit.register(os.unlink, fh.name)
    return Source(Path(fh.name), fmt, "stdin")


def article_units(source: Source) -> Iterator[list[dict[str, Any]]]:
    """One unit: the paragraphs of a ``.txt`` article (doc_id = its name)."""
    try:
        content = source.path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        what = f"not UTF-8 text (byte {err.start})"
        raise StanceError(problem(str(source.path), what, "save it as UTF-8")) from err
    target = file_target(source.path, source.root)
    rows = [
        {"id": paragraph_id(source.name, i), "doc_id": source.name, "paragraph": i, "text": text}
        | ({"target": target} if target else {})
        for i, text in enumerate(split_paragraphs(content))
    ]
    if not rows:
        fix = "remove the file or fill it in"
        raise StanceError(problem(str(source.path), "no paragraph of text in this article", fix))
    yield rows


def table_units(source: Source, spec: InputSpec) -> Iterator[list[dict[str, Any]]]:
    """Units of a table: consecutive rows of one ``doc_id``, or each row alone without one."""
    table_spec = TableSpec(source.path, source.format, spec.delimiter, spec.sheet)
    with setting_names(PREDICT_SETTINGS):
        wanted = _columns(table_spec, spec)
        loaded = read_table(table_spec, wanted)
    table, sidecar = loaded.table, file_target(source.path, source.root)
    if not table.num_rows:
        raise StanceError(problem(str(source.path), "no rows to label", "give some text"))
    closed: set[str] = set()
    unit: list[dict[str, Any]] = []
    for start in range(0, table.num_rows, ROWS_PER_SLICE):
        part = table.slice(start, ROWS_PER_SLICE).to_pylist()
        for offset, record in enumerate(part):
            row = _table_row(record, loaded.where(start + offset), source, sidecar)
            doc = row.get("doc_id")
            if unit and (doc is None or doc != unit[0].get("doc_id")):
                closed.add(str(unit[0].get("doc_id")))
                yield unit
                unit = []
            if doc is not None and doc in closed:
                what = f"doc_id {doc!r} again, after rows of other documents"
                fix = "sort the table by doc_id, so that each document's rows are together"
                raise StanceError(problem(row[WHERE], what, fix))
            unit.append(row)
    if unit:
        yield unit


def _columns(table: TableSpec, spec: InputSpec) -> dict[str, str]:
    """Our field -> the table's column. A field mapped to its own name is optional: read when
    the table has that column. Any other name must be there (the readers say so if not)."""
    unknown = sorted(set(spec.columns) - set(FIELDS))
    if unknown:
        fix = f"map only {', '.join(FIELDS)} (columns.<field>=<your column>)"
        raise StanceError(problem("columns", f"unknown fields {unknown}", fix))
    header = header_of(table)
    wanted = {
        f: c
        for f, c in spec.columns.items()
        if c is not None and (c != f or f == "text" or c in header)
    }
    if "text" not in wanted:
        fix = "set columns.text=<the column holding the paragraphs>"
        raise StanceError(problem(str(table.path), "no text column is mapped", fix))
    return wanted


def _table_row(record: dict, where: str, source: Source, sidecar: str | None) -> dict[str, Any]:
    text = record.get("text")
    if text is None or not text.strip():
        raise StanceError(problem(where, "empty text", "remove the row or fill in its text"))
    row: dict[str, Any] = {WHERE: where}
    row["id"] = record.get("id") or f"{source.name}-{record['_line']}"  # as the builder's ids
    if record.get("doc_id"):
        row["doc_id"] = record["doc_id"]
    target = record.get("target") or sidecar
    if target:
        row["target"] = target
    row["text"] = text
    return row


def units(source: Source, spec: InputSpec) -> Iterator[list[dict[str, Any]]]:
    """The units of one source, by its format."""
    if source.format == "txt":
        return article_units(source)
    return table_units(source, spec)
