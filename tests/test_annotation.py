"""Annotation passes: kappa and confusion on hand-checked inputs, sampling, reports, the script."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from stance.errors import StanceError
from stance.labelling.annotation import (
    agreement,
    corpus_tables_markdown,
    read_pass,
    replace_block,
    report_agreement,
    sample_for_second_pass,
)

LABELS = ["anti", "neutral", "pro"]
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write_pass(path: Path, labels: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "label": x}) + "\n" for i, x in labels.items()))
    return path


def test_kappa_confusion_and_raw_agreement_match_hand_computation() -> None:
    # first: pro pro anti neutral; second: pro anti anti anti.
    # p_o = 2/4; p_e = .5*.25 (pro) + .25*.75 (anti) + .25*0 (neutral) = .3125
    # kappa = (.5 - .3125) / (1 - .3125) = 3/11
    first = {"a": "pro", "b": "pro", "c": "anti", "d": "neutral"}
    second = {"a": "pro", "b": "anti", "c": "anti", "d": "anti"}
    result = agreement(first, second, LABELS)
    assert result.kappa == pytest.approx(3 / 11)
    assert result.raw_agreement == pytest.approx(0.5)
    assert result.n == 4
    # rows first pass, columns second pass: anti->anti 1, neutral->anti 1, pro->anti 1, pro->pro 1
    np.testing.assert_array_equal(result.confusion, [[1, 0, 0], [1, 0, 0], [1, 0, 1]])
    assert result.disagreements == [("b", "pro", "anti"), ("d", "neutral", "anti")]


def test_agreement_uses_only_the_second_pass_ids() -> None:
    first = {"a": "pro", "b": "anti", "c": "neutral"}
    result = agreement(first, {"a": "pro", "b": "anti"}, LABELS)
    assert result.n == 2
    assert result.kappa == pytest.approx(1.0)
    assert result.disagreements == []


def test_second_pass_id_missing_from_first_pass_is_an_error() -> None:
    with pytest.raises(StanceError, match="not in the first pass"):
        agreement({"a": "pro"}, {"a": "pro", "zz": "anti"}, LABELS)


def test_read_pass_rejects_unknown_label_and_duplicate_id(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "label": "pro"}\n{"id": "b", "label": "favour"}\n')
    with pytest.raises(StanceError, match=r"bad.jsonl:2: label 'favour'"):
        read_pass(bad, LABELS)
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"id": "a", "label": "pro"}\n{"id": "a", "label": "anti"}\n')
    with pytest.raises(StanceError, match="appears twice"):
        read_pass(twice, LABELS)


def corpus_rows() -> list[dict]:
    sizes = {"D1": 3, "D2": 5, "D3": 10, "D4": 4}
    return [
        {
            "id": f"{d}-{i}",
            "doc_id": d,
            "paragraph_index": i,
            "target": f"T{d}",
            "text": f"t {d} {i}",
        }
        | {"label": "pro"}
        for d, n in sizes.items()
        for i in range(n)
    ]


def test_sample_covers_every_document_and_hides_labels() -> None:
    rows = corpus_rows()  # 22 paragraphs; 0.25 -> ceil(5.5) = 6
    sample = sample_for_second_pass(rows, 0.25, seed=3)
    assert len(sample) == 6
    assert {s["id"].split("-")[0] for s in sample} == {"D1", "D2", "D3", "D4"}
    assert all(set(s) == {"id", "target", "text"} for s in sample)
    assert len({s["id"] for s in sample}) == 6
    assert sample == sample_for_second_pass(rows, 0.25, seed=3)
    assert sample != sample_for_second_pass(rows, 0.25, seed=4)


def test_corpus_tables_count_by_key_and_label() -> None:
    rows = [
        {"label": "pro", "target": "X", "register": "news", "date": "2016-01-02", "doc_id": "D1"},
        {"label": "anti", "target": "X", "register": "oped", "date": "2016-05-02", "doc_id": "D1"},
        {"label": "anti", "target": "Y", "register": "news", "date": "2019-01-02", "doc_id": "D2"},
    ]
    text = corpus_tables_markdown(rows, LABELS)
    assert text.startswith("3 paragraphs in 2 documents (1-2 paragraphs each), 2 targets, dated")
    assert text.splitlines()[0].endswith("dated 2016-01-02 to 2019-01-02.")
    assert "| anti | 2 | 66.7% |" in text
    assert "| X | 1 | 0 | 1 | 2 |" in text
    assert "| news | 1 | 0 | 1 | 2 |" in text
    assert "| 2019 | 1 | 0 | 0 | 1 |" in text
    assert text.count("| total | 2 | 0 | 1 | 3 |") == 3


def test_replace_block_needs_both_markers() -> None:
    text = "a\n<!-- BEGIN x -->\nold\n<!-- END x -->\nb\n"
    assert (
        replace_block(text, "x", "new", "README") == "a\n<!-- BEGIN x -->\nnew\n<!-- END x -->\nb\n"
    )
    with pytest.raises(StanceError, match="README"):
        replace_block("no markers", "x", "new", "README")


def test_script_config_writes_report_and_readme_blocks(tmp_path: Path) -> None:
    first = write_pass(tmp_path / "first.jsonl", {"a": "pro", "b": "pro", "c": "anti", "d": "anti"})
    second = write_pass(tmp_path / "second.jsonl", {"a": "pro", "b": "anti", "c": "anti"})
    readme = tmp_path / "README.md"
    readme.write_text("# Card\n<!-- BEGIN agreement -->\n<!-- END agreement -->\nend\n")
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(
            "annotation_agreement",
            overrides=[
                f"first_pass={first}",
                f"second_pass={second}",
                f"out={tmp_path / 'agreement.md'}",
                f"readme={readme}",
                "corpus=null",
                "adjudication=null",
            ],
        )
    result = report_agreement(**OmegaConf.to_container(cfg, resolve=True))
    # p_o = 2/3; first pro 2/3 anti 1/3, second pro 1/3 anti 2/3: p_e = 4/9; kappa = (2/9)/(5/9)
    assert result.kappa == pytest.approx(0.4)
    assert "Cohen's kappa: 0.400" in (tmp_path / "agreement.md").read_text()
    card = readme.read_text()
    assert "Cohen's kappa **0.400**" in card
    assert card.startswith("# Card\n") and card.endswith("<!-- END agreement -->\nend\n")
