"""Write the label-free blind second-pass sample from the two corpus parts (run from repo root)."""

from stance.labelling.annotation import read_jsonl, sample_for_second_pass, write_jsonl

SEED = 20261127
FRACTION = 0.22
PARTS = ["data/raw/parts/part_a.jsonl", "data/raw/parts/part_b.jsonl"]

if __name__ == "__main__":
    rows = [row for part in PARTS for row in read_jsonl(part)]
    sample = sample_for_second_pass(rows, FRACTION, SEED)
    write_jsonl(sample, "data/annotation/second_pass_input.jsonl")
    print(f"{len(sample)} of {len(rows)} paragraphs ({len(sample) / len(rows):.1%}) sampled")
