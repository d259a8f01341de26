"""The labelling loop: rank unlabelled paragraphs for the next round and write a label sheet.

What is never suggested: a paragraph already labelled (any split of the dataset the labels go
back into, any labelled row of its input files, even one the build left out, or the model's
training record; matched by dedup's normalised text), page furniture
(bylines, datelines, captions, share lines, very short paragraphs: ``stance.labelling.furniture``),
and all but the most uncertain of each group of exact or near-duplicates (dedup's normalisation
and word-bigram MinHash LSH). Ranking: margin uncertainty (1 - the gap between the two most
probable labels) mixed with diversity (maximal marginal relevance over TF-IDF cosine:
``stance.labelling.diversity``). Selection takes the targets in turn, and at most
``max_per_document`` paragraphs of one document, so a round spreads over policies and articles.
Beside the label sheet (``stance.labelling.sheets``) goes the review sheet of labels worth a second
look (``stance.labelling.review``).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from datasets import DatasetDict

from stance import runs
from stance.data import as_dataset_config, overlap, prepare_dataset
from stance.data.dedup import components, first_equal, near_pairs, normalized
from stance.data.schema import DatasetConfig, DedupConfig
from stance.data.sources import read_source
from stance.data.validate import blank
from stance.errors import StanceError, problem
from stance.labelling.diversity import pick
from stance.labelling.furniture import KINDS, furniture_kind
from stance.labelling.review import REVIEW_SHEET, write_review
from stance.labelling.sheets import ROUND_FILES, SHEET, write_round
from stance.predict.command import input_spec
from stance.predict.destinations import output_folder, refuse_inputs
from stance.predict.documents import label_units
from stance.predict.inputs import sources, units
from stance.predict.loading import Predictor, load_model


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
    *,
    furniture: bool = False,
    min_words: int = 0,
    diversity: float = 0.0,
) -> tuple[list[Candidate], dict[str, int]]:
    """The ``n`` candidates to label next, and how many were left out for which reason.

    ``seen``: hashes (``overlap.text_hashes``) of the paragraphs labelled already. With
    ``furniture``, page furniture is left out (``furniture/<kind>`` counts each kind)."""
    if not pool:
        raise StanceError(problem("input", "no paragraphs to choose from", "give some text"))
    if not 0 <= diversity <= 1:
        raise StanceError(problem("diversity", f"{diversity} is outside [0, 1]", "use 0 to 1"))
    texts = pa.array([c.row["text"] for c in pool], pa.string())
    labelled = np.array([h in seen for h in overlap.text_hashes(texts.to_pylist())], bool)
    kinds = [
        furniture_kind(c.row["text"], min_words) if furniture and not done else None
        for c, done in zip(pool, labelled, strict=True)
    ]
    out = labelled | np.array([k is not None for k in kinds], bool)
    norm = normalized(texts)
    exact = first_equal(norm)
    a, b, _ = near_pairs(norm, exact == np.arange(len(pool)), dedup)
    group = components(
        len(pool), np.concatenate([a, exact]), np.concatenate([b, np.arange(len(pool))])
    )
    order = sorted(range(len(pool)), key=lambda i: (-pool[i].uncertainty, i))
    best_of_group: dict[int, int] = {}
    for i in order:
        if not out[i]:
            best_of_group.setdefault(int(group[i]), i)
    kept = sorted(i for i in order if best_of_group.get(int(group[i])) == i)
    if not kept:
        what = f"all {len(pool)} paragraphs are labelled already, page furniture or duplicates"
        raise StanceError(problem("input", what, "give articles with unlabelled paragraphs"))
    chosen, capped = pick(
        [pool[i].row["text"] for i in kept],
        np.array([pool[i].uncertainty for i in kept]),
        [str(pool[i].row.get("target") or "") for i in kept],
        [pool[i].row.get("doc_id") for i in kept],
        n,
        max_per_document,
        diversity,
    )
    found = Counter(k for k in kinds if k is not None)
    counts = {
        "pool": len(pool),
        "labelled": int(labelled.sum()),
        "furniture": int(sum(found.values())),
        **{f"furniture/{k}": found[k] for k in KINDS if found[k]},
        "duplicates": len(pool) - int(out.sum()) - len(kept),
        "capped_per_document": capped,
        "chosen": len(chosen),
    }
    return [pool[kept[i]] for i in chosen], counts


def summary(counts: dict[str, int]) -> str:
    """One line: how many were chosen and why the others were left out."""
    found = {k: counts[f"furniture/{k}"] for k in KINDS if f"furniture/{k}" in counts}
    kinds = ", ".join(f"{k} {v}" for k, v in found.items())
    return (
        f"chose {counts['chosen']} of {counts['pool']} paragraphs; left out "
        f"{counts['labelled']} labelled already, {counts['furniture']} furniture lines"
        + (f" ({kinds})" if kinds else "")
        + f", {counts['duplicates']} duplicates, {counts['capped_per_document']} over "
        "max_per_document"
    )


def labelled_hashes(dataset_cfg: DatasetConfig, built: DatasetDict) -> set[str]:
    """``overlap.text_hashes`` of every paragraph labelled already: each split of the built
    dataset, and each input row with a label that the build left out (a label outside
    ``labels``, a rejected row, a duplicate merged into another)."""
    texts = [text for split in built.values() for text in split["text"]]
    raw = read_source(dataset_cfg).table
    if {"text", "label"} <= set(raw.column_names):
        with_label = raw["text"].filter(pa.array(~blank(raw["label"])))
        texts += [text for text in with_label.to_pylist() if text is not None]
    return set(overlap.text_hashes(texts))


def check_settings(cfg: Any) -> None:
    """Refuse settings that cannot work before anything is read or written."""
    if not 0 <= cfg.diversity <= 1:
        where, what = "diversity", f"{cfg.diversity} is outside [0, 1]"
        raise StanceError(problem(where, what, "use 0 (pure uncertainty) to 1; 0.3 by default"))
    if cfg.review.sheet and cfg.review.folds < 2:
        where, what = "review.folds", f"{cfg.review.folds} folds cannot leave any row out"
        fix = "use 2 or more (5 by default), or review.sheet=false"
        raise StanceError(problem(where, what, fix))
    if cfg.review.sheet and cfg.review.model is None:
        where, what = "review.model", "no model to compute out-of-fold probabilities with"
        raise StanceError(problem(where, what, "add model@review.model=tfidf_logreg"))


def _dataset_paths(cfg: DatasetConfig) -> list[str]:
    """What ``dataset.path`` names: a file, a folder, a glob, or a list of files and globs."""
    return [cfg.path] if isinstance(cfg.path, str) else [str(p) for p in cfg.path or []]


def suggest_command(cfg: Any) -> list[Path]:
    """``scripts/suggest.py``: rank ``cfg.input``'s paragraphs and write the next round."""
    check_settings(cfg)
    predictor = load_model(cfg.model_path)
    out = Path(cfg.out)
    output_folder("out", out)
    for name in (SHEET, REVIEW_SHEET):
        if (out / name).exists() and not cfg.force:
            what = f"{name} is already there and may hold your labels"
            fix = "give another out= (or force=true to replace it)"
            raise StanceError(problem(str(out), what, fix))
    dataset = cfg.dataset if cfg.dataset is not None else runs.trained_dataset(predictor.path)
    if dataset is None:
        fix = "name the dataset config the labels go back into: dataset=<name>"
        raise StanceError(problem(str(predictor.path), "no run config.yaml beside the model", fix))
    dataset_cfg = as_dataset_config(dataset)
    spec = input_spec(cfg)
    found = sources(spec)  # (stdin is read here, once)
    read = [spec.path, *(s.path for s in found), predictor.path, dataset_cfg.label_sheet]
    read += _dataset_paths(dataset_cfg)
    refuse_inputs("out", [out, *(out / name for name in (*ROUND_FILES, REVIEW_SHEET))], read)
    known, _card = prepare_dataset(dataset, cfg.paths.processed_root)  # built when missing
    record = overlap.read_record(predictor.path) or {"rows": {}}
    seen = {h for split in overlap.SEEN_SPLITS for h in record["rows"].get(split, [])}
    seen |= labelled_hashes(dataset_cfg, known)
    pool_units = (unit for source in found for unit in units(source, spec))
    labelled = (
        row for out_rows in label_units(predictor, pool_units, cfg.target, cfg.batch_size)
        for row in out_rows
    )  # fmt: skip
    pool = candidates(predictor, labelled)
    chosen, counts = rank(
        pool,
        cfg.n,
        seen,
        cfg.max_per_document,
        dataset_cfg.dedup,
        furniture=cfg.furniture,
        min_words=cfg.min_words,
        diversity=cfg.diversity,
    )
    written = write_round(chosen, dataset_cfg, out, str(predictor.path))
    print(f"{summary(counts)}; wrote " + ", ".join(map(str, written)), file=sys.stderr)
    if cfg.review.sheet:
        review = write_review(
            known,
            dataset_cfg,
            cfg.review.model,
            cfg.review.folds,
            cfg.seed,
            out,
            max_rows=cfg.review.max_rows,
        )
        written += [review] if review else []
    return written
