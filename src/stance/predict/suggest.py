"""The labelling loop: rank unlabelled paragraphs for the next round and write a label sheet.

Ranking: uncertainty sampling by margin (1 - the gap between the two most probable labels),
after dropping paragraphs the model trained on and all but the most uncertain of each group of
exact or near-duplicates (dedup's normalisation and word-bigram MinHash LSH). Selection takes the
targets in turn, and at most ``max_per_document`` paragraphs of one document, so a round spreads
over policies and articles. The sheet has exactly the columns the dataset config reads, with the
label column empty, and a Label Studio import file whose data keys are those column names (so a
Label Studio CSV export is the same sheet, labelled).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pyarrow as pa

from stance import runs
from stance.data import as_dataset_config, overlap
from stance.data.dedup import components, first_equal, near_pairs, normalized
from stance.data.schema import DatasetConfig, DedupConfig
from stance.errors import StanceError, problem
from stance.predict.command import input_spec
from stance.predict.documents import label_units
from stance.predict.inputs import sources, units
from stance.predict.loading import Predictor, load_model

SHEET = "label_sheet.csv"
LABEL_STUDIO_TASKS = "label_studio_tasks.json"
LABEL_STUDIO_CONFIG = "label_studio_config.xml"
RANKING = "suggestions.jsonl"


@dataclass
class Candidate:
    """One unlabelled paragraph, the model's guess and how unsure it is."""

    row: dict[str, Any]
    guess: str
    uncertainty: float  # 1 - (p_top1 - p_top2), in [0, 1]


def candidates(predictor: Predictor, labelled: Iterable[dict[str, Any]]) -> list[Candidate]:
    """Paragraph rows of ``label_units`` output as candidates (document rows are skipped)."""
    found = []
    for row in labelled:
        if row["level"] != "paragraph":
            continue
        p = np.sort(np.fromiter(row["proba"].values(), float))[::-1]
        margin = p[0] - p[1] if len(p) > 1 else 1.0
        kept = {k: v for k, v in row.items() if k not in ("level", "label", "proba")}
        found.append(Candidate(kept, row["label"], round(float(1 - margin), 6)))
    return found


def rank(
    pool: list[Candidate],
    n: int,
    seen: set[str],
    max_per_document: int,
    dedup: DedupConfig,
) -> tuple[list[Candidate], dict[str, int]]:
    """The ``n`` candidates to label next, and how many were left out for which reason."""
    if not pool:
        raise StanceError(problem("input", "no paragraphs to choose from", "give some text"))
    texts = pa.array([c.row["text"] for c in pool], pa.string())
    hashes = overlap.text_hashes(texts.to_pylist())
    trained = np.array([h in seen for h in hashes], bool)
    norm = normalized(texts)
    exact = first_equal(norm)
    a, b, _ = near_pairs(norm, exact == np.arange(len(pool)), dedup)
    group = components(
        len(pool), np.concatenate([a, exact]), np.concatenate([b, np.arange(len(pool))])
    )
    order = sorted(range(len(pool)), key=lambda i: (-pool[i].uncertainty, i))
    best_of_group: dict[int, int] = {}
    for i in order:
        if not trained[i]:
            best_of_group.setdefault(int(group[i]), i)
    kept = [i for i in order if best_of_group.get(int(group[i])) == i]
    queues: dict[str, list[int]] = defaultdict(list)
    for i in kept:
        queues[str(pool[i].row.get("target") or "")].append(i)
    chosen, per_doc = _round_robin(pool, queues, n, max_per_document)
    counts = {
        "pool": len(pool),
        "trained_on": int(trained.sum()),
        "duplicates": len(pool) - int(trained.sum()) - len(kept),
        "capped_per_document": sum(per_doc.values()),
        "chosen": len(chosen),
    }
    return [pool[i] for i in chosen], counts


def _round_robin(
    pool: list[Candidate], queues: dict[str, list[int]], n: int, cap: int
) -> tuple[list[int], dict[str, int]]:
    """Take the most uncertain of each target in turn, at most ``cap`` per document."""
    chosen: list[int] = []
    taken: dict[str, int] = defaultdict(int)
    skipped: dict[str, int] = defaultdict(int)
    heads = {t: 0 for t in sorted(queues)}
    while len(chosen) < n and heads:
        for target in list(heads):
            queue = queues[target]
            while heads[target] < len(queue):
                i = queue[heads[target]]
                heads[target] += 1
                doc = pool[i].row.get("doc_id")
                if doc is not None and taken[str(doc)] >= cap:
                    skipped[str(doc)] += 1
                    continue
                taken[str(doc)] += doc is not None
                chosen.append(i)
                break
            else:
                del heads[target]
            if len(chosen) == n:
                break
    return chosen, skipped


def sheet_columns(cfg: DatasetConfig) -> dict[str, str]:
    """Our field -> the column the dataset config reads it from, in the config's order."""
    fields = [f for f in cfg.columns.__dataclass_fields__ if getattr(cfg.columns, f) is not None]
    if cfg.format != "articles":
        return {f: getattr(cfg.columns, f) for f in fields if f != "paragraph_index"}
    # an articles label sheet names a paragraph by its index; its reader ignores other columns,
    # so the paragraph's text comes along for the labeller to read
    columns = {f: getattr(cfg.columns, f) for f in fields if f not in ("text", "id")}
    return columns | ({"text": "text"} if "text" not in columns.values() else {})


def write_round(chosen: list[Candidate], cfg: DatasetConfig, out: Path, model: str) -> list[Path]:
    """The label sheet, the Label Studio tasks and config, and the ranking, in ``out``."""
    columns = sheet_columns(cfg)
    if cfg.format == "articles" and any(c.row.get("paragraph") is None for c in chosen):
        fix = "suggest from the .txt articles themselves (input=<the dataset's folder>)"
        raise StanceError(problem("dataset.format=articles", "rows without a paragraph index", fix))
    out.mkdir(parents=True, exist_ok=True)
    records = [_record(c, columns) for c in chosen]
    with (out / SHEET).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns.values()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    tasks = [{"data": {k: v for k, v in r.items() if k != columns["label"]}} for r in records]
    (out / LABEL_STUDIO_TASKS).write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    (out / LABEL_STUDIO_CONFIG).write_text(label_studio_config(cfg, columns))
    with (out / RANKING).open("w", encoding="utf-8") as fh:
        for rank_, c in enumerate(chosen, start=1):
            info = {"rank": rank_, **c.row, "model_guess": c.guess, "uncertainty": c.uncertainty}
            fh.write(json.dumps(info | {"model": model}, ensure_ascii=False) + "\n")
    return [out / name for name in (SHEET, LABEL_STUDIO_TASKS, LABEL_STUDIO_CONFIG, RANKING)]


def _record(candidate: Candidate, columns: dict[str, str]) -> dict[str, Any]:
    row = candidate.row | {"paragraph_index": candidate.row.get("paragraph"), "label": ""}
    return {
        column: row.get(f, "") if row.get(f) is not None else "" for f, column in columns.items()
    }


def label_studio_config(cfg: DatasetConfig, columns: dict[str, str]) -> str:
    """A Label Studio labelling config: the text (and its policy), one choice per label."""
    labels = list(cfg.labels) + (
        [cfg.neutral_label] if cfg.neutral_label not in (None, *cfg.labels) else []
    )
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


def suggest_command(cfg: Any) -> list[Path]:
    """``scripts/suggest.py``: rank ``cfg.input``'s paragraphs and write the next round."""
    predictor = load_model(cfg.model_path)
    out = Path(cfg.out)
    if (out / SHEET).exists() and not cfg.force:
        what = f"{SHEET} is already there and may hold your labels"
        raise StanceError(
            problem(str(out), what, "give another out= (or force=true to replace it)")
        )
    dataset = cfg.dataset if cfg.dataset is not None else runs.trained_dataset(predictor.path)
    if dataset is None:
        fix = "name the dataset config the labels go back into: dataset=<name>"
        raise StanceError(problem(str(predictor.path), "no run config.yaml beside the model", fix))
    dataset_cfg = as_dataset_config(dataset)
    record = overlap.read_record(predictor.path) or {"rows": {}}
    seen = {h for split in overlap.SEEN_SPLITS for h in record["rows"].get(split, [])}
    spec = input_spec(cfg)
    pool_units = (unit for source in sources(spec) for unit in units(source, spec))
    labelled = (
        row for out_rows in label_units(predictor, pool_units, cfg.target, cfg.batch_size)
        for row in out_rows
    )  # fmt: skip
    pool = candidates(predictor, labelled)
    chosen, counts = rank(pool, cfg.n, seen, cfg.max_per_document, dataset_cfg.dedup)
    written = write_round(chosen, dataset_cfg, out, str(predictor.path))
    print(
        f"chose {counts['chosen']} of {counts['pool']} paragraphs ({counts['trained_on']} already "
        f"trained on, {counts['duplicates']} duplicates left out); wrote "
        + ", ".join(map(str, written)),
        file=sys.stderr,
    )
    return written
