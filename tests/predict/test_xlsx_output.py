"""predict.py's outputs for analysts: an xlsx with a paragraphs and an articles sheet, a CSV with
a BOM for Excel, the dataset's own label words, and the document rule stated once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from fixtures import ANTI, PRO, tiny_dataset
from stance import runs
from stance.data import overlap
from stance.errors import StanceError
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict.columns import View
from stance.predict.loading import load_model
from stance.predict.outputs import Writer
from train_helpers import run_script_in_process

MAP = {"Support": "pro", "SUPPORT ": "pro", "Oppose": "anti"}  # one word each, in two spellings


@pytest.fixture(scope="module")
def worded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose dataset said Support/Oppose: its training record keeps those words."""
    folder = tmp_path_factory.mktemp("worded")
    dataset = tiny_dataset()
    model = TfidfStanceModel(target_mode="none").fit(dataset["train"])
    card = {"name": "tiny", "labels": ["pro", "anti"], "config": {"label_map": MAP}}
    record = overlap.training_record(dataset, card)
    assert record["label_words"] == {"pro": "Support", "anti": "Oppose"}
    runs.save_model_atomic(model, folder / runs.MODEL_DIR, "# card\n",
                           extra={overlap.RECORD_FILE: record})  # fmt: skip
    runs.end_run(folder, runs.start_run(folder, {}), "complete")
    return folder


def articles(folder: Path, n: int) -> Path:
    """``n`` articles with a byline and a date in one block, a share line and a caption."""
    folder.mkdir()
    for i in range(n):
        cue = PRO[i % len(PRO)] if i % 2 else ANTI[i % len(ANTI)]
        (folder / f"article-{i}.txt").write_text(
            f"Tariffs, day {i}\n\nBy Laura Jimenez | Business Reporter\nSeptember 3, 2024\n\n"
            f"We {cue} the policy, said senator {i}.\n\nThey {cue} it too.\n\n"
            "Share this article\n\nPhoto: a hall\n"
        )
    return folder


def predict(run_dir: Path, *args: str) -> None:
    run_script_in_process("predict", [f"model={run_dir}", *args])


def sheet(book: openpyxl.Workbook, name: str) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_a_folder_becomes_a_workbook_in_the_users_words_with_furniture_marked(
    worded_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder, out = articles(tmp_path / "in", 4), tmp_path / "labels.xlsx"
    predict(worded_run, f"input={folder}", f"output={out}")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["paragraphs", "articles"]
    paragraphs, documents = sheet(book, "paragraphs"), sheet(book, "articles")
    assert len(paragraphs) == 4 * 7 and len(documents) == 4
    first = [p for p in paragraphs if p["doc_id"] == "article-1"]
    assert [p["text"] for p in first][1:3] == ["By Laura Jimenez | Business Reporter",
                                               "September 3, 2024"]  # fmt: skip
    assert [p["furniture"] for p in first] == [False, True, True, False, False, True, True]
    assert {p["label"] for p in paragraphs} <= {"Support", "Oppose"}
    assert all(p["label_canonical"] == {"Support": "pro", "Oppose": "anti"}[p["label"]]
               for p in paragraphs)  # fmt: skip
    assert "rule" not in paragraphs[0] and "proba_Support" in paragraphs[0]
    by_doc = {d["doc_id"]: d for d in documents}
    assert by_doc["article-1"]["label"] == "Support" and by_doc["article-2"]["label"] == "Oppose"
    assert by_doc["article-1"]["paragraphs"] == 7 and by_doc["article-1"]["paragraphs_used"] <= 3
    assert by_doc["article-1"]["reason"] in (None, "")
    assert by_doc["article-1"]["proba_Support"] + by_doc["article-1"]["proba_Oppose"] == (
        pytest.approx(1)
    )
    meta = json.loads(out.with_name(out.name + ".stance.json").read_text())
    assert "mean of the paragraph probabilities" in meta["rule"]
    assert meta["label_words"] == {"pro": "Support", "anti": "Oppose"}
    capsys.readouterr()
    predict(worded_run, f"input={folder}", f"output={out}")  # a rerun: all there already
    assert "wrote 0 rows" in capsys.readouterr().err
    again = openpyxl.load_workbook(out)
    assert sheet(again, "paragraphs") == paragraphs and sheet(again, "articles") == documents


def test_excel_true_writes_a_bom_and_the_rule_is_not_on_every_row(
    worded_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder, out = articles(tmp_path / "in", 3), tmp_path / "labels.csv"
    predict(worded_run, f"input={folder}", f"output={out}", "excel=true")
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    assert "rule" not in rows[0] and {"label_canonical", "furniture", "reason"} <= set(rows[0])
    assert {r["label"] for r in rows if r["level"] == "paragraph"} <= {"Support", "Oppose"}
    capsys.readouterr()
    predict(worded_run, f"input={folder}", f"output={out}", "excel=true")  # resumes past the BOM
    assert "3 documents were already there" in capsys.readouterr().err
    assert out.read_bytes() == data


def test_a_model_without_words_keeps_its_labels(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.jsonl"
    predict(run_dir, f"input={articles(tmp_path / 'in', 2)}", f"output={out}")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["label"] for r in rows if r["level"] == "paragraph"} <= {"pro", "anti"}
    assert all(r["label"] == r["label_canonical"] for r in rows)
    assert all("rule" not in r for r in rows)


@pytest.mark.parametrize(
    "words",
    [
        {"pro": "Support"},
        {"pro": "x" * 500, "anti": "Oppose"},
        {"pro": 3, "anti": "Oppose"},
        {"pro": "Same", "anti": "same"},
        ["Support", "Oppose"],
    ],
)
def test_bad_label_words_in_a_model_folder_are_refused(tmp_path: Path, words: object) -> None:
    folder = tmp_path / "model"
    runs.save_model_atomic(
        TfidfStanceModel(target_mode="none").fit(tiny_dataset()["train"]), folder, "# card\n",
        extra={overlap.RECORD_FILE: {"rows": {"train": []}, "label_words": words}},
    )  # fmt: skip
    with pytest.raises(StanceError, match=r"training_data\.json.*label_words"):
        load_model(folder)


def test_a_text_like_a_formula_stays_text_and_control_characters_go(tmp_path: Path) -> None:
    out = tmp_path / "labels.xlsx"
    writer = Writer(str(out), "xlsx", ["pro", "anti"], {}, words={"pro": "Support"})
    proba = {"pro": 0.9, "anti": 0.1}
    writer.write([{"level": "paragraph", "id": "r1", "text": "=HYPERLINK(\"x\")\x0b!",
                   "label": "pro", "proba": proba}])  # fmt: skip
    writer.close()
    (row,) = sheet(openpyxl.load_workbook(out), "paragraphs")
    cells = {c.value: c.data_type for c in openpyxl.load_workbook(out)["paragraphs"][2]}
    assert cells['=HYPERLINK("x")!'] == "s"  # a string, not a formula Excel would run
    assert row["text"] == '=HYPERLINK("x")!' and row["label"] == "Support"
    assert row["proba_anti"] == 0.1 and row["label_canonical"] == "pro"
    assert [c for c in View(["pro", "anti"], {"pro": "Support"}).columns() if "proba" in c] == [
        "proba_Support", "proba_anti"
    ]  # fmt: skip
    assert sheet(openpyxl.load_workbook(out), "articles") == []
