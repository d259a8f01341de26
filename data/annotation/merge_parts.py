"""Merge the two corpus parts into the released corpus; save the writers' labels as first pass."""

from collections import Counter, defaultdict

from stance.labelling.annotation import read_jsonl, write_jsonl

PARTS = ["data/raw/parts/part_a.jsonl", "data/raw/parts/part_b.jsonl"]
KEYS = ["id", "doc_id", "paragraph_index", "text", "label", "target", "source", "date", "register"]

if __name__ == "__main__":
    rows = [row for part in PARTS for row in read_jsonl(part)]
    bad_keys = [row.get("id") for row in rows if sorted(row) != sorted(KEYS)]
    assert not bad_keys, f"rows with other keys: {bad_keys[:5]}"
    twice = [i for i, n in Counter(row["id"] for row in rows).items() if n > 1]
    assert not twice, f"duplicate ids: {twice}"
    indices = defaultdict(list)
    for row in rows:
        indices[row["doc_id"]].append(row["paragraph_index"])
    gaps = [d for d, idx in indices.items() if sorted(idx) != list(range(len(idx)))]
    assert not gaps, f"non-contiguous paragraph_index in {gaps}"
    rows.sort(key=lambda row: (row["doc_id"], row["paragraph_index"]))
    write_jsonl(
        ({key: row[key] for key in KEYS} for row in rows), "data/raw/us_policy_corpus.jsonl"
    )
    write_jsonl(
        ({"id": row["id"], "label": row["label"]} for row in rows),
        "data/annotation/first_pass.jsonl",
    )
    print(f"{len(rows)} paragraphs, {len(indices)} documents merged")
