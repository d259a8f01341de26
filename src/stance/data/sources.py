"""Every input format behind one call: tabular files, raw articles + label sheet, TweetEval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from stance.data import rounds
from stance.data.paragraphs import paragraph_id, split_paragraphs
from stance.data.readers import read_csv, read_tabular
from stance.data.records import (
    Loaded,
    bad_utf8,
    extra_fields,
    hash_bytes,
    is_utf16,
    read_bytes,
    reject,
    utf16_error,
)
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem

TWEETEVAL_SPLITS = {"train": "train", "val": "validation", "test": "test"}


def read_source(cfg: DatasetConfig) -> Loaded:
    """Read the input that `cfg` describes into a `Loaded` table."""
    if cfg.format == "articles":
        return read_articles(cfg)
    if cfg.format == "tweeteval":
        return read_tweeteval(cfg)
    if rounds.is_multi(cfg):  # labelling rounds: several files, later labels win
        files = rounds.input_files(cfg)
        return rounds.concat([read_tabular(rounds.file_config(cfg, f)) for f in files], files)
    return read_tabular(cfg)


def input_hash(cfg: DatasetConfig) -> str:
    """Content hash of every input file (what a reader also records), for config_fingerprint."""
    if cfg.format not in ("articles", "tweeteval"):
        if rounds.is_multi(cfg):
            return rounds.files_hash(rounds.input_files(cfg))
        return hash_bytes(read_bytes(Path(cfg.path)))
    return _hash_files(_source_files(cfg))


def _source_files(cfg: DatasetConfig) -> list[Path]:
    root = _folder(cfg)
    if cfg.format == "tweeteval":
        return sorted(p for p in root.rglob("*") if p.is_file())
    return [*sorted(root.glob("*.txt")), _sheet(cfg)]


def _hash_files(files: list[Path]) -> str:
    return hash_bytes(*(part for f in files for part in (f.name.encode(), read_bytes(f))))


def _folder(cfg: DatasetConfig) -> Path:
    root = Path(cfg.path)
    if not root.is_dir():
        raise StanceError(
            problem(
                str(root),
                f"folder not found (format {cfg.format})",
                "set dataset.path (for tweeteval also the TWEETEVAL_DIR variable)",
            )
        )
    return root


def _sheet(cfg: DatasetConfig) -> Path:
    if not cfg.label_sheet:
        raise StanceError(
            problem(
                f"dataset '{cfg.name}'",
                "format articles needs a label sheet",
                "set dataset.label_sheet to a CSV with doc_id,paragraph_index,label",
            )
        )
    return Path(cfg.label_sheet)


def _article(path: Path, skip: bool) -> list[str] | str:
    """The paragraphs of one article, or the reason it cannot be read (skip mode)."""
    try:
        data = read_bytes(path, "article file")
        if is_utf16(data):
            raise utf16_error(str(path))
        return split_paragraphs(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        error = bad_utf8(str(path), data, err)
    except StanceError as err:
        error = err
    if not skip:
        raise error from None
    return str(error).splitlines()[0]


def read_articles(cfg: DatasetConfig) -> Loaded:
    """Raw article files `<doc_id>.txt` plus a label sheet that points at their paragraphs."""
    folder, sheet = _folder(cfg), _sheet(cfg)
    skip = cfg.on_bad_rows == "skip"
    cols = cfg.columns
    wanted = {
        "doc_id": cols.doc_id or "doc_id",
        "paragraph_index": cols.paragraph_index,
        "label": cols.label,
    }
    wanted.update(
        {f: getattr(cols, f) for f in ("id", "target", "source", "date") if getattr(cols, f)}
    )
    wanted.update(extra_fields(list(cols.extra)))
    rows = read_csv(sheet, read_bytes(sheet, "label sheet"), wanted, ",", skip)
    t = rows.table.to_pydict()
    paragraphs = {p.stem: _article(p, skip) for p in sorted(folder.glob("*.txt"))}
    texts: list[str | None] = []
    keep: list[bool] = []
    rejects = list(rows.rejects)
    used: set[tuple[str, int]] = set()
    for k, (doc, index) in enumerate(zip(t["doc_id"], t["paragraph_index"], strict=True)):
        where = f"{sheet}, line {t['_line'][k]}"
        found = paragraphs.get(doc, f"no article file {folder / f'{doc}.txt'}")
        what = _locate(found, index)
        if isinstance(what, str):
            fix = "fix doc_id / paragraph_index (0-based, over the paragraphs of split_paragraphs)"
            if not skip:
                raise StanceError(problem(where, what, fix))
            rejects.append(
                reject(where, "bad paragraph reference", what, {c: t[c][k] for c in wanted})
            )
            texts.append(None)
            keep.append(False)
            continue
        texts.append(found[what])
        keep.append(True)
        used.add((doc, what))
    t["text"] = texts
    refs = zip(t["doc_id"], t["paragraph_index"], strict=True)
    t.setdefault("id", [paragraph_id(d, i) for d, i in refs])
    table = pa.table(
        {
            c: pa.array(v, pa.int64() if c == "_line" else pa.string())
            for c, v in t.items()
            if c != "paragraph_index"
        }
    )
    table = table.filter(pa.array(np.array(keep, dtype=bool)))
    total = sum(len(p) for p in paragraphs.values() if isinstance(p, list))
    extra = {"articles": len(paragraphs), "paragraphs": total}
    extra["unlabeled_paragraphs"] = total - len(used)
    files = [*sorted(folder.glob("*.txt")), sheet]
    return Loaded(table, [str(sheet)], "line", rows.n_input, _hash_files(files), rejects, extra)


def _locate(found: list[str] | str, index: str | None) -> int | str:
    """The paragraph position `index` points to, or what is wrong with it."""
    if isinstance(found, str):
        return found
    try:
        i = int(str(index).strip())
    except ValueError:
        return f"paragraph_index {index!r} is not a whole number"
    if not 0 <= i < len(found):
        return f"paragraph_index {i} does not exist: the article has {len(found)} paragraphs"
    return i


def read_tweeteval(cfg: DatasetConfig) -> Loaded:
    """The TweetEval stance layout: <target>/{train,val,test}_{text,labels}.txt + mapping.txt."""
    root = _folder(cfg)
    mapping = {}
    for line in read_bytes(root / "mapping.txt", "mapping.txt").decode().splitlines():
        if line.strip():
            number, name = line.split(maxsplit=1)
            mapping[number] = name.strip()
    targets = cfg.targets or {p.name: p.name for p in sorted(root.iterdir()) if p.is_dir()}
    cols: dict[str, list] = {c: [] for c in ("id", "text", "label", "target", "split", "_line")}
    files: list[str] = []
    file_of_row: list[int] = []
    for folder, target in targets.items():
        for name, split in TWEETEVAL_SPLITS.items():
            text_path = root / folder / f"{name}_text.txt"
            texts = _lines(text_path)
            labels = _lines(root / folder / f"{name}_labels.txt")
            if len(texts) != len(labels):
                raise StanceError(
                    problem(
                        str(text_path),
                        f"{len(texts)} texts but {len(labels)} labels",
                        "restore the original TweetEval files",
                    )
                )
            files.append(str(text_path))
            n = len(texts)
            cols["id"] += [f"{folder}-{name}-{i}" for i in range(n)]
            cols["text"] += texts
            cols["label"] += [mapping.get(x.strip(), x.strip()) for x in labels]
            cols["target"] += [target] * n
            cols["split"] += [split] * n
            cols["_line"] += range(1, n + 1)
            file_of_row += [len(files) - 1] * n
    table = pa.table({**cols, "_file": pa.array(file_of_row, pa.int32())})
    return Loaded(table, files, "line", table.num_rows, input_hash(cfg))


def _lines(path: Path) -> list[str]:
    data = read_bytes(path, "TweetEval file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad_utf8(str(path), data, err) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]
