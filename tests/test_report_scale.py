"""Per-target metrics and report.html at thousands of topics: small targets pooled, scores over an
absent class undefined (not 0.5), counts printed as whole numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from stance.experiment.evaluation import evaluate_configured
from stance.scoring.metrics import classification_metrics, split_metrics
from train_helpers import RuleModel, compose_cfg

CLASSES = ["anti", "neutral", "pro"]


class KeywordModel(RuleModel):
    """Says ``pro`` for a text with "support", ``anti`` for "oppose", else ``neutral``."""

    classes_ = CLASSES
    uses_target = False
    family = "keyword"

    def predict_proba(self, texts, targets=None, **options) -> np.ndarray:
        pick = [2 if "support" in t else 0 if "oppose" in t else 1 for t in texts]
        return np.eye(3)[pick] * 0.9 + 0.1 / 3


def split_of(rows: list[tuple[str, str, str]]) -> Dataset:
    """(text, label, target) rows as a built split."""
    features = Features(
        id=Value("string"),
        text=Value("string"),
        doc_id=Value("string"),
        target=Value("string"),
        label=ClassLabel(names=CLASSES),
    )
    return Dataset.from_dict(
        {
            "id": [f"r{i}" for i in range(len(rows))],
            "text": [r[0] for r in rows],
            "doc_id": [f"d{i}" for i in range(len(rows))],
            "target": [r[2] for r in rows],
            "label": [CLASSES.index(r[1]) for r in rows],
        },
        features=features,
    )


def test_one_right_row_has_no_f_avg_and_a_whole_n() -> None:
    gold = np.array([2, 0, 2, 1])
    proba = np.eye(3)[[2, 0, 1, 1]]
    groups = {"target": ["tiny", "big", "big", "big"]}
    m = split_metrics(gold, proba, CLASSES, "neutral", groups, n_bootstrap=0)
    # only `pro` is present: F1(anti) is 0/0, so F_avg and macro-F1 are undefined, not 0.5
    assert np.isnan(m["by_target/tiny/f_avg"]) and np.isnan(m["by_target/tiny/f1_macro"])
    assert m["by_target/tiny/accuracy"] == 1.0
    assert m["by_target/tiny/n"] == 1 and isinstance(m["by_target/tiny/n"], int)
    # every class present (in gold or predictions): the same scores as the whole-split function
    whole = classification_metrics(gold[1:], proba[1:].argmax(axis=1), CLASSES, "neutral")
    assert m["by_target/big/f_avg"] == whole["f_avg"]
    assert m["by_target/big/f1_macro"] == whole["f1_macro"]
    # the split's own F_avg still counts an absent class as 0 (unchanged)
    assert m["f_avg"] == classification_metrics(gold, proba.argmax(1), CLASSES, "neutral")["f_avg"]


def test_a_report_over_500_tiny_topics_stays_short(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for k in range(500):  # 1-3 rows each
        for _ in range(int(rng.integers(1, 4))):
            rows.append(("we support it", "pro", f"topic {k}"))
    for label, cue in (("pro", "support"), ("anti", "oppose"), ("neutral", "note")) * 4:
        rows += [(f"they {cue} tariffs", label, "tariffs"), (f"we {cue} aid", label, "aid")]
    rows.append(("we oppose aid", "pro", "aid"))
    data = DatasetDict(test=split_of(rows))
    cfg = compose_cfg("train", ["evaluation.splits=[test]", "evaluation.bootstrap=0"])
    assert cfg.evaluation.min_group_rows == 5
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    evaluate_configured(KeywordModel(), data, cfg, run_dir, "neutral")

    written = json.loads((run_dir / "metrics.json").read_text())
    by_target = sorted(k for k in written if k.startswith("test/by_target/"))
    assert len(by_target) == 3 * 4 + 1  # tariffs, aid, other: n F_avg macro-F1 accuracy (+ groups)
    assert written["test/by_target/_other/groups"] == 500
    assert written["test/by_target/_other/n"] == len(rows) - 25
    assert written["test/by_target/_other/f_avg"] is None  # every pooled row is `pro`
    assert written["test/by_target/aid/f_avg"] < 1.0  # scored alone, one mistake
    assert len(written) < 200

    page = (run_dir / "report.html").read_text()
    table = re.search(r"<h3>by target</h3><table>(.*?)</table>", page).group(1)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in table.split("<tr>")[1:]]
    assert [c[0] for c in cells[1:]] == ["aid", "tariffs", "other targets (500)"]
    assert cells[3][1] == str(len(rows) - 25) and cells[3][2] == "–"  # count whole; F_avg undefined
    assert cells[1][1] == "13"  # not "13.000" nor 13.0
    support = re.search(r"<td>anti</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="n">([^<]*)</td>', support)[-1] == "8"
