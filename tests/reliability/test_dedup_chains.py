"""Near-duplicate chains (issue 22 item 6): a chain that joins documents into one group holding
most rows stops the build naming the group and the fix, instead of an empty split later; the card
reports the largest group; a dense cluster of near-copies is still found, exactly, in few pairs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from data.data_helpers import user_dataset
from fixtures import export_rows, write
from stance.data import build_dataset, read_card
from stance.data.dedup import components, near_pairs, normalized
from stance.data.near import jaccards, word_bigrams
from stance.data.schema import DedupConfig
from stance.errors import StanceError


def _chain(length: int) -> list[str]:
    """`length` 40-word texts, each one word away from the one before (J ~0.9 to its neighbours,
    falling with the distance along the chain)."""
    words = [f"w{i}" for i in range(40)]
    texts = []
    for k in range(length):
        words[(7 * k) % 40] = f"edit{k}"
        texts.append(" ".join(words))
    return texts


def _with_chain(docs: int) -> list[dict]:
    """export_rows() plus one paragraph of a chain in each of its first `docs` documents."""
    rows = export_rows()
    for k, text in enumerate(_chain(docs)):
        rows.append({**rows[0], "id": f"chain{k}", "doc_id": f"d{k}", "text": text})
    return rows


def test_a_chain_joining_most_documents_stops_the_build_with_the_cause(tmp_path):
    path = write(tmp_path / "in.csv", export_rows())
    folder = build_dataset(user_dataset(path, labels=None), tmp_path / "out")
    before = (folder / "card.json").read_bytes()
    write(path, _with_chain(30))  # 30 of 40 documents (150 of 190 rows) in one group
    with pytest.raises(StanceError) as err:
        build_dataset(user_dataset(path, labels=None), tmp_path / "out")
    message = str(err.value)
    assert message.startswith("dataset 'my_corpus': 150 of 190 rows (79%) form one group")
    assert "30 documents joined into a chain by near-duplicates" in message
    assert "chain0 ~ chain1" in message  # the chain's first link, by row id
    assert "dataset.dedup.threshold" in message and "dataset.dedup.action=drop" in message
    assert (folder / "card.json").read_bytes() == before  # the earlier build is untouched


def test_the_same_chain_only_reported_builds(tmp_path):
    path = write(tmp_path / "in.csv", _with_chain(30))
    cfg = user_dataset(path, "dataset.dedup.action=report", labels=None)
    card = read_card(build_dataset(cfg, tmp_path / "out"))
    assert card["dedup"]["near"]["pairs"] >= 29
    assert card["dedup"]["largest_group"]["documents"] == 1  # report links no near-duplicate


def test_the_card_reports_the_largest_group(tmp_path):
    path = write(tmp_path / "in.csv", _with_chain(3))  # documents d0-d2 joined: 3 x 5 rows
    folder = build_dataset(user_dataset(path, labels=None), tmp_path / "out")
    group = read_card(folder)["dedup"]["largest_group"]
    assert group["rows"] == 15 and group["documents"] == 3 and group["linked_rows"] == 3
    assert group["share"] == round(15 / 163, 4)
    assert {e["a"].split(", line ")[0] for e in group["examples"]} == {str(path)}
    assert (
        "Largest group kept in one split: 15 rows (9.2% of the kept rows), 3 documents"
        in (folder / "card.md").read_text()
    )


@pytest.mark.parametrize("kind", ["chain", "cluster"])
def test_a_long_chain_or_dense_cluster_is_one_group_in_few_exact_pairs(kind):
    if kind == "chain":
        texts = _chain(600)
    else:  # every text one word away from the first: every pair is a near-duplicate
        base = [f"w{i}" for i in range(40)]
        texts = [" ".join([*base[: k % 40], f"edit{k}", *base[k % 40 + 1 :]]) for k in range(600)]
    norm = normalized(pa.array(texts))
    a, b, jac = near_pairs(norm, np.ones(len(texts), bool), DedupConfig())
    assert len(np.unique(components(len(texts), a, b))) == 1
    assert (a < b).all() and (jac >= 0.7).all()
    grams, bounds = word_bigrams(norm)
    assert np.allclose(jac, jaccards(grams, bounds, a, b))
    exact = [
        len(set(grams[bounds[i] : bounds[i + 1]]) & set(grams[bounds[j] : bounds[j + 1]]))
        / len(set(grams[bounds[i] : bounds[i + 1]]) | set(grams[bounds[j] : bounds[j + 1]]))
        for i, j in zip(a[:50], b[:50], strict=True)
    ]
    assert np.allclose(jac[:50], exact)
    # a bucket of 600 near-copies costs a few pairs per row, not one per member (~180k pairs)
    assert len(a) <= 50 * len(texts)
