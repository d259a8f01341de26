"""What a labelling round writes: the label sheet with exactly the columns the dataset config reads
(label empty), a Label Studio import whose data keys are those column names (so a Label Studio CSV
export is the same sheet, labelled), and the ranking; labels in the dataset's own words
(``stance.data.label_words``: a sheet that says Support/Oppose gets Support/Oppose back)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import quoteattr

from stance import folders
from stance.data.label_words import label_words
from stance.data.schema import DatasetConfig
from stance.errors import StanceError, problem
from stance.runs import write_text

SHEET = "label_sheet.csv"
LABEL_STUDIO_TASKS = "label_studio_tasks.json"
LABEL_STUDIO_CONFIG = "label_studio_config.xml"
RANKING = "suggestions.jsonl"
ROUND_FILES = (SHEET, LABEL_STUDIO_TASKS, LABEL_STUDIO_CONFIG, RANKING)


class Chosen(Protocol):
    """A chosen paragraph: its row, the model's guess and how unsure the model is."""

    row: dict[str, Any]
    guess: str
    uncertainty: float


def sheet_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> the column the dataset config reads it from, in the config's order."""
    fields = [f for f in cfg.columns.__dataclass_fields__
              if isinstance(getattr(cfg.columns, f), str)]  # fmt: skip
    extra = {name: name for name in getattr(cfg.columns, "extra", None) or []}  # own names
    if cfg.format != "articles":
        return {f: getattr(cfg.columns, f) for f in fields if f != "paragraph_index"} | extra
    # an articles label sheet names a paragraph by its index; its reader ignores other columns,
    # so the paragraph's text comes along for the labeller to read
    columns = {f: getattr(cfg.columns, f) for f in fields if f not in ("text", "id")}
    return columns | ({"text": "text"} if "text" not in columns.values() else {})


def write_csv(path: Path, columns: Sequence[str], records: list[dict[str, Any]]) -> None:
    """``records`` as a UTF-8 CSV with the header ``columns`` (whole, or the earlier file stays)."""
    with folders.replaced(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)


def write_round(chosen: Sequence[Chosen], cfg: DatasetConfig, out: Path, model: str) -> list[Path]:
    """The label sheet, the Label Studio tasks and config, and the ranking, in ``out``."""
    columns = sheet_columns(cfg)
    if cfg.format == "articles" and any(c.row.get("paragraph") is None for c in chosen):
        fix = "suggest from the .txt articles themselves (input=<the dataset's folder>)"
        raise StanceError(problem("dataset.format=articles", "rows without a paragraph index", fix))
    out.mkdir(parents=True, exist_ok=True)
    records = [sheet_record(c.row | {"label": ""}, columns) for c in chosen]
    write_csv(out / SHEET, columns.values(), records)
    tasks = [{"data": {k: v for k, v in r.items() if k != columns["label"]}} for r in records]
    write_text(out / LABEL_STUDIO_TASKS, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    write_text(out / LABEL_STUDIO_CONFIG, label_studio_config(cfg, columns))
    words = label_words(offered(cfg), cfg.label_map)
    ranking = (
        {"rank": rank_, **c.row, "model_guess": words.get(c.guess, c.guess)}
        | {"uncertainty": c.uncertainty}
        | {"model": model}
        for rank_, c in enumerate(chosen, start=1)
    )
    write_text(out / RANKING, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ranking))
    return [out / name for name in ROUND_FILES]


def sheet_record(row: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """One sheet line: ``row``'s fields under the dataset's column names ('' for missing)."""
    row = row | {"paragraph_index": row.get("paragraph")}
    return {
        column: row.get(f, "") if row.get(f) is not None else "" for f, column in columns.items()
    }


def offered(cfg: DatasetConfig) -> list[str]:
    """The labels a labeller chooses from: the dataset's, then its no-stance label."""
    return list(cfg.labels) + (
        [cfg.neutral_label] if cfg.neutral_label not in (None, *cfg.labels) else []
    )


def label_studio_config(cfg: DatasetConfig, columns: dict[str, str]) -> str:
    """A Label Studio labelling config: the text (and its policy), one choice per label, in the
    dataset's own words (each maps back through ``label_map``)."""
    words = label_words(offered(cfg), cfg.label_map)
    labels = [words[label] for label in offered(cfg)]
    text = columns.get("text") or columns["doc_id"]
    lines = ["<View>", f"  <Text name={quoteattr(text)} value={quoteattr('$' + text)}/>"]
    if "target" in columns:
        lines.append(f"  <Header value={quoteattr('Policy: $' + columns['target'])}/>")
    lines.append(
        f'  <Choices name={quoteattr(columns["label"])} toName={quoteattr(text)} choice="single">'
    )
    lines += [f"    <Choice value={quoteattr(label)}/>" for label in labels]
    lines += ["  </Choices>", "</View>"]
    return "\n".join(lines) + "\n"
