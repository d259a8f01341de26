"""Annotation passes: blind second-pass sample, Cohen's kappa, reports and data-card tables."""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from stance.errors import StanceError, problem
from stance.jsonl import iter_json_lines
from stance.labelling.agreement_tables import (
    agreement_markdown,
    confusion_markdown,
    corpus_tables_markdown,
    replace_block,
)

PASS_KEYS = ("id", "label")


@dataclass
class AnnotationAgreementConfig:
    """Schema of `configs/annotation_agreement.yaml` (the arguments of `report_agreement`)."""

    first_pass: str = "data/annotation/first_pass.jsonl"  # JSONL: id, label (the writers')
    second_pass: str = "data/annotation/second_pass.jsonl"  # JSONL: id, label (blind pass)
    labels: list[str] = field(default_factory=lambda: ["anti", "neutral", "pro"])  # their order
    out: str = "data/annotation/agreement.md"  # the Markdown report written
    readme: str | None = "data/README.md"  # refresh its generated blocks; null: leave it alone
    corpus: str | None = "data/raw/us_policy_corpus.jsonl"  # the count tables' corpus
    adjudication: str | None = "data/annotation/adjudication.jsonl"  # labels it changed


ConfigStore.instance().store(name="annotation_agreement_schema", node=AnnotationAgreementConfig)


def read_jsonl(path: str | Path) -> list[dict]:
    """Read a JSON-lines file; a bad line raises StanceError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise StanceError(problem(str(path), "file not found", "check the path in the config"))
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, row in iter_json_lines(handle, str(path)):
            if not isinstance(row, dict):
                raise StanceError(
                    problem(
                        f"{path}:{number}", "line is not a JSON object", "write one object per line"
                    )
                )
            rows.append(row)
    return rows


def write_jsonl(rows: Iterable[dict], path: str | Path) -> None:
    """Write rows as JSON lines (UTF-8, keys in the given order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_pass(path: str | Path, labels: Sequence[str]) -> dict[str, str]:
    """Read one annotation pass (`id`, `label` per line) into {id: label}; check ids and labels."""
    result: dict[str, str] = {}
    for number, row in enumerate(read_jsonl(path), start=1):
        where = f"{path}:{number}"
        missing = [key for key in PASS_KEYS if key not in row]
        if missing:
            raise StanceError(
                problem(where, f"missing key(s) {missing}", "write `id` and `label` on every line")
            )
        if row["label"] not in labels:
            raise StanceError(
                problem(
                    where,
                    f"label {row['label']!r} is not one of {list(labels)}",
                    "use one of the listed labels",
                )
            )
        if row["id"] in result:
            raise StanceError(
                problem(where, f"id {row['id']!r} appears twice", "keep one label per id")
            )
        result[row["id"]] = row["label"]
    return result


def sample_for_second_pass(rows: Sequence[dict], fraction: float, seed: int) -> list[dict]:
    """Draw a seeded sample of ceil(fraction * n) paragraphs spread over every document.

    Each document gives max(1, floor(fraction * its paragraphs)) paragraphs; the rest of the
    quota is drawn uniformly from the paragraphs not yet chosen. The result (`id`, `target`, `text`
    only) is shuffled so an annotator never reads a document's paragraphs in order.
    """
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_doc[row["doc_id"]].append(row)
    rng = random.Random(seed)
    chosen: list[dict] = []
    rest: list[dict] = []
    for doc_id in sorted(by_doc):
        paragraphs = sorted(by_doc[doc_id], key=lambda row: row["paragraph_index"])
        picked = set(
            rng.sample(range(len(paragraphs)), max(1, math.floor(fraction * len(paragraphs))))
        )
        chosen += [p for i, p in enumerate(paragraphs) if i in picked]
        rest += [p for i, p in enumerate(paragraphs) if i not in picked]
    quota = math.ceil(fraction * len(rows))
    chosen += rng.sample(rest, max(0, quota - len(chosen)))
    rng.shuffle(chosen)
    return [{"id": row["id"], "target": row["target"], "text": row["text"]} for row in chosen]


@dataclass(frozen=True)
class Agreement:
    """Agreement between two passes on the ids they share."""

    labels: list[str]
    n: int
    kappa: float
    raw_agreement: float
    confusion: np.ndarray  # rows: first pass, columns: second pass, in `labels` order
    disagreements: list[tuple[str, str, str]]  # (id, first, second)


def agreement(first: dict[str, str], second: dict[str, str], labels: Sequence[str]) -> Agreement:
    """Compare the passes on the second pass's ids (every one must be in the first pass)."""
    unknown = sorted(set(second) - set(first))
    if unknown:
        raise StanceError(
            problem(
                "second pass",
                f"{len(unknown)} id(s) not in the first pass, e.g. {unknown[:3]}",
                "annotate only ids of the corpus",
            )
        )
    if not second:
        raise StanceError(problem("second pass", "no labels", "annotate the sample first"))
    ids = sorted(second)
    a = [first[i] for i in ids]
    b = [second[i] for i in ids]
    labels = list(labels)
    return Agreement(
        labels=labels,
        n=len(ids),
        kappa=float(cohen_kappa_score(a, b, labels=labels)),
        raw_agreement=sum(x == y for x, y in zip(a, b, strict=True)) / len(ids),
        confusion=confusion_matrix(a, b, labels=labels),
        disagreements=[(i, x, y) for i, x, y in zip(ids, a, b, strict=True) if x != y],
    )


def adjudication_changes(path: str | Path) -> tuple[int, int]:
    """(adjudicated disagreements, final labels that differ from the first pass)."""
    rows = read_jsonl(path)
    return len(rows), sum(row["final"] != row["first"] for row in rows)


def report_agreement(
    first_pass: str,
    second_pass: str,
    labels: Sequence[str],
    out: str,
    readme: str | None = None,
    corpus: str | None = None,
    adjudication: str | None = None,
) -> Agreement:
    """Write the agreement report to `out`; refresh the generated blocks of `readme` if given."""
    result = agreement(read_pass(first_pass, labels), read_pass(second_pass, labels), labels)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(agreement_markdown(result, first_pass, second_pass), encoding="utf-8")
    if readme is None:
        return result
    summary = [
        f"Blind second pass on {result.n} paragraphs: raw agreement {result.raw_agreement:.3f}, "
        f"Cohen's kappa **{result.kappa:.3f}**, {len(result.disagreements)} disagreements.",
        "",
        "Confusion before adjudication (rows: first pass, columns: second pass):",
        "",
        confusion_markdown(result),
    ]
    if adjudication is not None:
        n_adjudicated, n_changed = adjudication_changes(adjudication)
        summary += [
            "",
            f"Adjudication decided {n_adjudicated} disagreements and changed {n_changed} "
            "released label(s) from the first pass.",
        ]
    text = Path(readme).read_text(encoding="utf-8")
    text = replace_block(text, "agreement", "\n".join(summary), readme)
    if corpus is not None:
        tables = corpus_tables_markdown(read_jsonl(corpus), labels)
        text = replace_block(text, "corpus-tables", tables, readme)
    Path(readme).write_text(text, encoding="utf-8")
    return result


def agreement_command(cfg: DictConfig) -> None:
    """``scripts/annotation_agreement.py``: ``report_agreement`` and its headline numbers."""
    result = report_agreement(**OmegaConf.to_container(cfg, resolve=True))
    print(
        f"{result.n} paragraphs: raw agreement {result.raw_agreement:.3f}, "
        f"Cohen's kappa {result.kappa:.3f}, {len(result.disagreements)} disagreements -> {cfg.out}"
    )
