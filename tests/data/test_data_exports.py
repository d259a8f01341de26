"""Files as annotation tools and spreadsheets export them: each builds, or stops with one line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from data_helpers import CONFIGS, user_dataset

from fixtures import export_rows, write
from stance.data import build_dataset, ensure_dataset, load_processed, read_card
from stance.errors import StanceError

COLUMNS = ["Paragraph ID", "Article", "Paragraph", "Stance", "Policy", "Outlet", "Published"]
FIELDS = ["id", "doc_id", "text", "label", "target", "source", "date"]
MAPPING = [f"dataset.columns.{f}={c}" for f, c in zip(FIELDS, COLUMNS, strict=True)]


def _export_rows(rows: list[dict]) -> list[list[str]]:
    return [[r[f] for f in FIELDS] for r in rows]


def _excel_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    """What Excel's "CSV UTF-8" writes: a BOM, CRLF line ends, our column names as the header."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_export_rows(rows))
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return path


def _dataset(path: Path, *overrides: str):
    fmt = f"dataset.format={path.suffix.lstrip('.')}"
    return user_dataset(path, fmt, *MAPPING, *overrides)


def test_excel_csv_utf8_with_bom_and_crlf_reads_as_is(tmp_path):
    path = _excel_csv(tmp_path / "export.csv", export_rows())
    card = read_card(build_dataset(_dataset(path), tmp_path / "out"))
    assert card["rows"]["input"] == len(export_rows()) and card["rows"]["rejected"] == 0
    ds = load_processed(tmp_path / "out" / "my_corpus")
    assert {"d0-p0"} <= {i for s in ds for i in ds[s]["id"]}  # no BOM or \r in any value
    assert all(not t.endswith("\r") for s in ds for t in ds[s]["date"])


def test_a_bad_row_in_an_excel_csv_names_its_line(tmp_path):
    rows = export_rows()
    rows[4]["label"] = "maybe"
    path = _excel_csv(tmp_path / "export.csv", rows)
    with pytest.raises(StanceError, match=r"export\.csv, line 6: unknown label 'maybe'"):
        build_dataset(_dataset(path), tmp_path / "out")


def _xlsx(path: Path, rows: list[list], sheet: str = "Labels") -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["not the data"])
    ws = book.create_sheet(sheet)
    ws.append(COLUMNS)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_an_xlsx_sheet_builds_with_numbers_and_dates_as_cells(tmp_path):
    rows = _export_rows(export_rows())
    for k, row in enumerate(rows):
        row[0] = 1000 + k  # a numeric id cell, not "1000.0"
        row[6] = dt.datetime.fromisoformat(row[6])  # a real date cell
    rows.insert(3, [None] * len(COLUMNS))  # an empty row in the middle is not a paragraph
    path = _xlsx(tmp_path / "labels.xlsx", rows)
    folder = build_dataset(_dataset(path, "dataset.sheet=Labels"), tmp_path / "out")
    ds = load_processed(folder)
    assert "1000" in {i for s in ds for i in ds[s]["id"]}
    assert "2020-01-01" in {d for s in ds for d in ds[s]["date"]}
    assert read_card(folder)["rows"]["input"] == len(export_rows())


def test_an_xlsx_error_names_the_sheet_row(tmp_path):
    rows = _export_rows(export_rows())
    rows[2][3] = "maybe"
    path = _xlsx(tmp_path / "labels.xlsx", rows)
    with pytest.raises(StanceError) as err:
        build_dataset(_dataset(path, "dataset.sheet=Labels"), tmp_path / "out")
    assert str(err.value).startswith(f"{path} [sheet Labels], row 4: unknown label 'maybe'")
    with pytest.raises(
        StanceError, match=r"no sheet 'Data'; the workbook has \['Notes', 'Labels'\]"
    ):
        build_dataset(_dataset(path, "dataset.sheet=Data"), tmp_path / "out")


@pytest.mark.parametrize("name", ["labels.xlsx", "labels.ods", "labels.xls"])
def test_a_workbook_given_as_csv_says_so_and_what_to_set(tmp_path, name):
    path = tmp_path / name
    _xlsx(tmp_path / "book.xlsx", _export_rows(export_rows()))
    magic = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an xls file starts so
    path.write_bytes(magic if name.endswith(".xls") else (tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(StanceError) as err:
        build_dataset(_dataset(path, "dataset.format=csv"), tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{path}: this is an xls") and "set dataset.format=xlsx" in message


@pytest.mark.parametrize(
    ("delimiter", "fix"), [("\t", "dataset.format=tsv"), (";", 'delimiter: ";"')]
)
def test_a_delimiter_other_than_the_config_names_itself_and_the_fix(tmp_path, delimiter, fix):
    path = _excel_csv(tmp_path / "export.csv", export_rows(), delimiter=delimiter)
    with pytest.raises(StanceError) as err:
        build_dataset(_dataset(path), tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{path}, line 1: the header is one column split by")
    assert fix in message and "columns.id" not in message
    setting = "dataset.format=tsv" if delimiter == "\t" else 'dataset.delimiter=";"'
    folder = build_dataset(_dataset(path, setting), tmp_path / "out")
    assert read_card(folder)["rows"]["input"] == len(export_rows())


def test_utf16_text_from_excel_is_named(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Paragraph ID\tStance\r\n1\tpro\r\n".encode("utf-16"))
    with pytest.raises(StanceError, match="UTF-16 text, not UTF-8"):
        build_dataset(_dataset(path), tmp_path / "out")


def _predefined(tmp_path: Path, with_validation: bool) -> Path:
    rows = export_rows(n_docs=60)
    for row in rows:
        d = int(row["doc_id"][1:])
        row["split"] = (
            "test" if d % 5 == 0 else ("dev" if with_validation and d % 5 == 1 else "train")
        )
    return write(tmp_path / "in.csv", rows)


def test_train_and_test_only_stops_with_the_fix_at_build_time(tmp_path):
    cfg = user_dataset(
        _predefined(tmp_path, False),
        "dataset.split.strategy=predefined",
        "dataset.columns.split=split",
    )
    with pytest.raises(StanceError) as err:
        build_dataset(cfg, tmp_path / "out")
    assert "split 'validation' came out empty" in str(err.value)
    assert "dataset.split.validation_from_train=0.1" in str(err.value)


def test_validation_from_train_carves_whole_documents_out_of_train(tmp_path):
    cfg = user_dataset(
        _predefined(tmp_path, False),
        "dataset.split.strategy=predefined",
        "dataset.columns.split=split",
        "dataset.split.validation_from_train=0.2",
    )
    folder = build_dataset(cfg, tmp_path / "out")
    ds, card = load_processed(folder), read_card(folder)
    docs = {s: set(ds[s]["doc_id"]) for s in ds}
    assert docs["test"] == {f"d{d}" for d in range(0, 60, 5)}  # the given test rows, untouched
    assert not docs["train"] & docs["validation"]
    assert 0.1 < len(ds["validation"]) / (len(ds["train"]) + len(ds["validation"])) < 0.3
    assert card["leakage"]["documents_in_several_splits"] == 0


def test_a_train_and_test_only_export_trains_end_to_end(tmp_path):
    path = _predefined(tmp_path, False)
    script = CONFIGS.parent / "scripts" / "train.py"
    args = [
        "dataset=csv_template",
        f"dataset.path={path}",
        "dataset.columns.doc_id=doc_id",
        "dataset.columns.split=split",
        "dataset.split.strategy=predefined",
        "dataset.split.validation_from_train=0.2",
        f"paths.processed_root={tmp_path / 'processed'}",
        f"paths.runs_root={tmp_path / 'runs'}",
        "evaluation.bootstrap=0",
    ]
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list((tmp_path / "runs").rglob("metrics.json"))


def test_empty_doc_id_target_and_date_cells_follow_the_documented_policy(tmp_path):
    rows = export_rows()
    rows[0]["doc_id"] = ""  # its own document
    rows[1]["date"] = ""  # kept without a date
    rows[2]["target"] = " "  # rejected: stance is relative to a target
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError, match=r"line 4: target is missing"):
        build_dataset(user_dataset(path), tmp_path / "out")
    folder = build_dataset(user_dataset(path, "dataset.on_bad_rows=skip"), tmp_path / "out")
    card = read_card(folder)
    assert card["rows"]["blank"] == {"doc_id": 1, "date": 1}
    assert card["rows"]["rejected_by_reason"] == {"missing target": 1}
    assert card["rows"]["balanced"]
    ds = load_processed(folder)
    assert "d0-p0" in {d for s in ds for d in ds[s]["doc_id"]}  # the id stands in for the doc


def test_dates_in_another_format_are_parsed_with_date_format(tmp_path):
    rows = export_rows()
    for row in rows:
        y, m, d = row["date"].split("-")
        row["date"] = f"{d}/{m}/{y}"
    path = write(tmp_path / "in.csv", rows)
    with pytest.raises(StanceError, match=r"line 2: date '01/01/2020' does not match"):
        build_dataset(user_dataset(path), tmp_path / "out")
    folder = build_dataset(user_dataset(path, "dataset.date_format='%d/%m/%Y'"), tmp_path / "o")
    ds = load_processed(folder)
    assert "2020-01-01" in set(ds["train"]["date"]) | set(ds["test"]["date"])


def test_an_empty_split_is_saved_so_that_it_loads(tmp_path):
    rows = export_rows()
    cfg = user_dataset(
        write(tmp_path / "in.csv", rows),
        "dataset.split.ratios={train:0.9,validation:0.0,test:0.1}",
    )
    ds = ensure_dataset(cfg, tmp_path / "out")
    assert len(ds["validation"]) == 0 and len(ds["train"]) > 0


BUILD = """
import sys, time
sys.path.insert(0, {helpers!r})
from pathlib import Path
from data_helpers import user_dataset
from stance.data import build as b
real = b._build
def slow(cfg, folder):
    print("build", flush=True)
    time.sleep(1.5)  # long enough for the other process to arrive while this one builds
    real(cfg, folder)
b._build = slow
ds = b.ensure_dataset(user_dataset(Path(sys.argv[1])), sys.argv[2])
print("loaded", len(ds["train"]), flush=True)
"""


def test_two_processes_building_one_dataset_build_once(tmp_path):
    path = write(tmp_path / "in.csv", export_rows())
    code = BUILD.format(helpers=str(Path(__file__).parent))
    cmd = [sys.executable, "-c", code, str(path), str(tmp_path / "out")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(o.count("build") for o in outs) == 1  # the second waited, then loaded
    assert all("loaded" in o for o in outs)
    assert len({o.split()[-1] for o in outs}) == 1


def test_an_empty_file_and_a_file_without_usable_rows_say_so(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")  # what an empty sheet saved as CSV UTF-8 can hold
    with pytest.raises(StanceError, match="the file is empty"):
        build_dataset(_dataset(empty), tmp_path / "out")
    header_only = _excel_csv(tmp_path / "header.csv", [])
    with pytest.raises(StanceError, match=r"no row is left to build from \(0 read, 0 rejected\)"):
        build_dataset(_dataset(header_only), tmp_path / "out")


def test_a_comma_file_given_as_tsv_names_the_fix(tmp_path):
    path = tmp_path / "export.tsv"
    _excel_csv(path, export_rows())  # commas, though the name and the config say tsv
    with pytest.raises(StanceError) as err:
        build_dataset(_dataset(path), tmp_path / "out")
    assert str(err.value).startswith(f"{path}, line 1: the header is one column split by ','")
    assert "set dataset.format=csv" in str(err.value)
