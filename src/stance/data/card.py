"""The dataset card (card.json + card.md): counts, row accounting, leakage proof, fingerprints."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stance.data.schema import SPLITS
from stance.errors import StanceError, problem
from stance.pages import markdown_table
from stance.scoring.metrics import HEADLINE

BUILDER_VERSION = 3  # bump when the build logic changes, so ensure_dataset rebuilds


def config_fingerprint(config: dict, input_hash: str) -> str:
    """Hash of the resolved dataset config, the input's content hash and the builder version."""
    if config.get("metric", HEADLINE) == HEADLINE:  # builds from before `metric` stay current
        config = {k: v for k, v in config.items() if k != "metric"}
    blob = json.dumps([config, input_hash, BUILDER_VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def content_fingerprint(splits: dict[str, pa.Table]) -> str:
    """Hash of the built splits' content, independent of how Arrow chunked the columns."""
    outer = hashlib.sha256()
    for name, table in splits.items():
        for column in table.column_names:
            values = table[column]
            outer.update(f"{name}/{column}/{len(values)}".encode())
            if pa.types.is_string(values.type):  # lengths, then the bytes of all values
                lengths = pc.fill_null(pc.binary_length(values), -1).to_numpy()
                outer.update(lengths.astype(np.int64).tobytes())
                for chunk in pc.cast(values, pa.large_string()).chunks:
                    outer.update(_value_bytes(chunk))
            else:
                outer.update(values.fill_null(-1).to_numpy().astype(np.int64).tobytes())
    return outer.hexdigest()[:32]


def _value_bytes(chunk: pa.LargeStringArray) -> memoryview:
    """The bytes of a string array's values, end to end (no copy)."""
    _, offsets, data = chunk.buffers()
    at = np.frombuffer(offsets, np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
    return memoryview(data or b"")[int(at[0]) : int(at[-1])] if len(chunk) else memoryview(b"")


def leakage(split: np.ndarray, doc: np.ndarray, group: np.ndarray, edges: tuple) -> dict:
    """Overlap between splits: documents, normalised texts, near-duplicate pairs."""
    out: dict = {}
    placed = split >= 0  # a cross-target split leaves some rows out (stance.data.target_splits)
    split, doc, group, old = split[placed], doc[placed], group[placed], split
    for key, ids in (("documents", doc), ("texts", group)):
        # row numbers and dense codes index `seen` directly; anything else is renumbered first
        dense = len(ids) == 0 or (ids.min() >= 0 and ids.max() < 2 * len(ids) + 16)
        inverse = ids if dense else np.unique(ids, return_inverse=True)[1]
        seen = np.zeros((inverse.max(initial=-1) + 1, len(SPLITS)), dtype=bool)
        seen[inverse, split] = True
        out[f"{key}_in_several_splits"] = int((seen.sum(1) > 1).sum())
        for i, j in combinations(range(len(SPLITS)), 2):
            pair = out.setdefault("by_pair", {}).setdefault(f"{SPLITS[i]}/{SPLITS[j]}", {})
            pair[key] = int((seen[:, i] & seen[:, j]).sum())
    a, b = edges
    both = placed[a] & placed[b]
    out["near_duplicate_pairs_across_splits"] = int((old[a] != old[b])[both].sum())
    return out


def counts(splits: dict[str, pa.Table], labels: list[str]) -> tuple[dict, dict]:
    """Rows per label x split, and documents per split."""
    by_label, docs = {}, {}
    for name, table in splits.items():
        tally = np.bincount(table["label"].to_numpy(), minlength=len(labels))
        by_label[name] = {lab: int(n) for lab, n in zip(labels, tally, strict=True)}
        by_label[name]["total"] = table.num_rows
        docs[name] = pc.count_distinct(table["doc_id"]).as_py()
    return by_label, docs


def accounting(
    n_input: int, kept: int, dedup: dict, excluded: dict, rejects: list[dict], blank: dict
) -> dict:
    """Every input row as kept, merged, dropped, excluded or rejected; `balanced` checks the sum.

    `blank` counts kept rows with an empty doc_id or date (the policy: stance.data.validate).
    """
    rows = {"input": n_input, "kept": kept, **dedup}
    rows["excluded_by_label"] = dict(excluded)
    rows["rejected"] = len(rejects)
    rows["rejected_by_reason"] = dict(Counter(r["kind"] for r in rejects))
    parts = kept + sum(dedup.values()) + sum(excluded.values()) + len(rejects)
    rows["balanced"] = parts == n_input
    rows["blank"] = dict(blank)
    return rows


def write_card(folder: Path, card: dict) -> None:
    """Write card.json and card.md into `folder`."""
    (folder / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    (folder / "card.md").write_text(markdown(card))


def read_card(path: str | Path) -> dict:
    """The card.json of a built dataset folder (or the card.json path itself)."""
    path = Path(path)
    file = path if path.suffix == ".json" else path / "card.json"
    if not file.is_file():
        raise StanceError(
            problem(
                str(path),
                "no card.json: not a (complete) built dataset",
                "build it: python scripts/build_dataset.py dataset=<name>",
            )
        )
    return json.loads(file.read_text())


def markdown(card: dict) -> str:
    """A short human summary of the card."""
    labels = card["labels"]
    counts, docs = card["counts"], card["documents"]
    table = [[s, *(counts[s][lab] for lab in labels), counts[s]["total"], docs[s]] for s in SPLITS]
    lines = [
        f"# Dataset `{card['name']}`",
        "",
        f"Source: `{card['config']['path']}` ({card['config']['format']}). "
        f"Split: {card['split']['strategy']}, seed {card['split']['seed']}. "
        f"Fingerprint `{card['fingerprint']}`. "
        f"Headline metric: {card['config'].get('metric', HEADLINE)}.",
        "",
        markdown_table(["split", *labels, "rows", "documents"], table),
    ]
    rows = card["rows"]
    excluded = sum(rows["excluded_by_label"].values())
    leak = card["leakage"]
    lines += [
        "",
        f"Rows: {rows['input']} in = {rows['kept']} kept + {rows['duplicates_merged']} merged "
        f"duplicates + {rows['conflicts_dropped']} dropped label conflicts + "
        f"{rows['near_duplicates_dropped']} dropped near-duplicates + "
        f"{rows.get('overridden_by_later_round', 0)} labelled again later + "
        f"{rows.get('held_out_text_dropped', 0)} left out for sharing a held-out split's text + "
        f"{excluded} excluded by "
        f"label {rows['excluded_by_label']} + {rows['rejected']} rejected "
        f"{rows['rejected_by_reason']} ({'adds up' if rows['balanced'] else 'DOES NOT ADD UP'}). "
        f"Kept rows with an empty cell: {rows['blank']} (no doc_id: its own document).",
        "",
        f"Leakage: {leak['documents_in_several_splits']} documents and "
        f"{leak['texts_in_several_splits']} normalised texts in more than one split; "
        f"{leak['near_duplicate_pairs_across_splits']} near-duplicate pairs across splits "
        f"(texts compared under any target).",
        "",
        f"Dedup: {card['dedup']['exact']['groups']} exact-duplicate groups "
        f"({card['dedup']['exact']['mode']}), {card['dedup']['conflicts']['groups']} with "
        f"conflicting labels ({card['dedup']['conflicts']['policy']}), "
        f"{card['dedup']['near']['pairs']} near-duplicate pairs at Jaccard >= "
        f"{card['dedup']['near']['threshold']} ({card['dedup']['near']['action']}).",
        *_largest_group(card["dedup"].get("largest_group")),
        *_across_targets(card["split"], card["dedup"]["conflicts"]),
    ]
    if card.get("source"):
        lines += ["", f"Source details: {json.dumps(card['source'])}"]
    lines += _history(card)
    if card.get("warnings"):
        lines += ["", "## Warnings", "", *(f"- {w}" for w in card["warnings"])]
    return "\n".join(lines) + "\n"


def _largest_group(group: dict | None) -> list[str]:
    """The most rows that near-duplicates and copies tie to one split (cards before it: none)."""
    if not group:
        return []
    return [
        "",
        f"Largest group kept in one split: {group['rows']} rows ({group['share']:.1%} of the kept "
        f"rows), {group['documents']} documents joined by near-duplicates or copies (the largest "
        f"chain of linked rows alone: {group['linked_rows']} rows).",
    ]


def _across_targets(split: dict, conflicts: dict) -> list[str]:
    """Documents a cross-target split spread over several splits; label conflicts kept."""
    lines = []
    spread = split.get("documents_across_splits")
    if spread is not None:
        fell_back = split["assigned_by"] != split["assign"]
        why = "; hash needs about 10 targets per split" if fell_back else ""
        shown = "; ".join(f"{e['doc_id']}: {e['splits']}" for e in spread["examples"][:3])
        lines += [
            "",
            f"Targets assigned by {split['assigned_by']} ({split['targets']} per split{why}); "
            f"{spread['documents']} documents span splits through their targets (no leak: each "
            f"row is about its own target){f', e.g. {shown}' if shown else ''}.",
        ]
    if conflicts.get("policy") == "keep" and conflicts["groups"]:
        lines += [
            "",
            f"Label conflicts kept as they are (dedup.conflicts=keep): {conflicts['groups']} "
            f"texts, {conflicts['rows_kept']} rows kept with their labels.",
        ]
    return lines


def _history(card: dict) -> list[str]:
    """The round, the labels a later round replaced, and what moved since the previous build."""
    lines = []
    rnd = card.get("round")
    if rnd:
        files = ", ".join(f"`{f['path']}`" for f in rnd.get("files", []))
        lines += ["", f"Round: {rnd['name']} (input files in round order: {files})."]
        over = rnd.get("overridden") or {}
        if over.get("overridden"):
            lines.append(
                f"{over['overridden']} rows were labelled again in a later file, which wins "
                f"({over['label_changed']} with another label); e.g. {over['examples'][:2]}."
            )
    prev = card.get("previous") or {}
    if prev.get("fingerprint"):
        lines += [
            "",
            f"Previous build: fingerprint `{prev['fingerprint']}` ({prev.get('round')}, built "
            f"{prev.get('built_at')}); {prev['documents_added']} documents added, "
            f"{prev['documents_moved']} moved between splits.",
        ]
    return lines
