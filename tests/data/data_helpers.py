"""Tiny corpora written in every input format, and dataset configs composed from the real files."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import stance.config_schemas  # noqa: F401  (registers the config schemas)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TWEETEVAL = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "tweeteval_stance"
FIELDS = ["id", "doc_id", "text", "label", "target", "source", "date"]
WORDS = [
    "senate",
    "house",
    "vote",
    "tariff",
    "sanction",
    "treaty",
    "budget",
    "border",
    "troops",
    "aid",
    "trade",
    "deal",
    "court",
    "ruling",
    "governor",
    "mayor",
    "rally",
    "protest",
    "union",
    "farmers",
    "workers",
    "prices",
    "market",
    "oil",
    "gas",
    "coal",
    "wind",
    "solar",
    "school",
    "clinic",
    "bridge",
    "port",
    "harbor",
    "river",
    "valley",
    "city",
    "county",
    "state",
    "nation",
    "region",
    "alliance",
]


def compose_build(dataset: str, *overrides: str) -> DictConfig:
    """configs/build_dataset.yaml with `dataset=<dataset>` and the overrides."""
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        return compose("build_dataset", overrides=[f"dataset={dataset}", *overrides])


def user_dataset(path: Path, *overrides: str, labels: str | None = "[anti,pro]") -> DictConfig:
    """The csv_template dataset read from `path` (format from its suffix), all columns mapped;
    binary (`labels`) as these tests were written, None: the template's own (3-way) labels."""
    columns = [f"dataset.columns.{c}={c}" for c in ("id", "doc_id", "target", "source", "date")]
    columns += [f"dataset.labels={labels}"] if labels else []
    fmt = f"dataset.format={path.suffix.lstrip('.')}"
    return compose_build("csv_template", f"dataset.path={path}", fmt, *columns, *overrides).dataset


def sentence(rng: random.Random, n: int = 14) -> str:
    """A random, capitalised sentence over WORDS (two never share many word pairs)."""
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def corpus(n_docs: int = 40, per_doc: int = 4, seed: int = 0) -> list[dict]:
    """Rows of `n_docs` documents; labels cycle pro/anti/neutral by document, dates by document."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        for p in range(per_doc):
            rows.append(
                {
                    "id": f"d{d}-p{p}",
                    "doc_id": f"d{d}",
                    "text": sentence(rng),
                    "label": ("pro", "anti", "neutral", "pro", "anti")[(d + p) % 5],
                    "target": f"policy {d % 3}",
                    "source": "Wire",
                    "date": f"2020-{1 + d % 12:02d}-{1 + d % 27:02d}",
                }
            )
    return rows


def write(path: Path, rows: list[dict]) -> Path:
    """Write rows as CSV, TSV, JSONL or Parquet, by the suffix of `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        with path.open("w", newline="", encoding="utf-8") as fh:
            delimiter = "\t" if path.suffix == ".tsv" else ","
            out = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
            out.writeheader()
            out.writerows(rows)
    return path
