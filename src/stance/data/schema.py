"""The dataset config schema (configs/dataset/<name>.yaml), validated with a clear message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from stance.errors import StanceError, problem
from stance.scoring.metrics import BATCH_METRICS, HEADLINE

FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx", "articles", "tweeteval")
SPLITS = ("train", "validation", "test")
TARGET_SPLITS = ("by_target", "target_kfold")  # whole targets per split (stance.data.target_splits)


@dataclass
class ColumnsConfig:
    """Our field -> the input's column name; null means the input has no such column."""

    text: str | None = "text"  # not used by `articles` (the text comes from the article files)
    label: str = "label"
    id: str | None = None  # null: stable ids `<name>-<row>` are generated
    doc_id: str | None = None  # null: every row is its own document
    target: str | None = None
    source: str | None = None
    date: str | None = None  # parsed with dataset.date_format; needed by split.strategy=time
    split: str | None = None  # train|validation|test (val/dev accepted); split.strategy=predefined
    paragraph_index: str = "paragraph_index"  # `articles` label sheet only
    # more input columns kept, under their own names, in the built dataset and predictions/*.jsonl
    # (e.g. [shot] for a zero-/few-shot flag; evaluation.group_by slices the report by them)
    extra: list[str] = field(default_factory=list)


@dataclass
class SplitConfig:
    """How rows are assigned to train / validation / test."""

    # grouped (by doc_id) | random | time (by date) | predefined | kfold | by_target (whole
    # targets held out for validation and test: stance on policies never seen in training) |
    # target_kfold (leave-targets-out: K folds of whole targets; stance.data.target_splits)
    strategy: str = "grouped"
    ratios: dict[str, float] = field(
        default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1}
    )
    stratify: bool = (
        True  # grouped/random, assign=shuffle: each split's label mix close to the whole
    )
    seed: int = 0
    # hash: a document's split is a function of its id and the seed alone, so adding rows (a new
    # labelling round) never moves a document; shuffle: a seeded shuffle cut at the ratios within
    # each label stratum (sizes and label mix closer to the ratios, but new rows move old ones)
    assign: str = "hash"
    # predefined: carve this fraction of the train rows (grouped by document, stratified) into
    # validation, for exports that have only train and test rows; kfold: of the training folds
    validation_from_train: float | None = None
    folds: int = 5  # kfold: K folds grouped by document and stratified; `fold` is the test fold
    fold: int = 0  # (target_kfold: K folds of whole targets)
    # by_target/target_kfold: a row whose text is also in a later split (train < validation <
    # test) is dropped (held-out targets stay whole) | keep (the card's leakage counts it)
    held_out_text: str = "drop"
    follow_seed: bool = False  # train.py: the split seed is the run's `seed` (split variance)


@dataclass
class DedupConfig:
    """Exact and near-duplicate handling (see stance.data.dedup)."""

    exact: str = "collapse"  # collapse (keep the first copy) | report (keep all, count them)
    # same text, same target, different labels: error | drop | majority | keep (all copies with
    # their labels, e.g. a benchmark's fixed test split; the card counts them)
    conflicts: str = "error"
    threshold: float = 0.7  # Jaccard of word-bigram sets at or above which rows are near-dups
    action: str = "same_split"  # near-dups: same_split | drop (keep the first) | report
    max_bucket: int = 50  # a row is linked to at most this many near-duplicate candidates
    lsh_bands: int = 24  # MinHash LSH: bands x rows hashes per text (see stance.data.dedup)
    lsh_rows: int = 5


@dataclass
class DatasetConfig:
    """One data source: where it is, how to read it, its labels, how to split and dedup it."""

    name: str = MISSING  # output folder <processed_root>/<name>/
    format: str = MISSING  # csv | tsv | jsonl | parquet | xlsx | articles | tweeteval
    # a file, a glob or a list of files/globs (labelling rounds: a later file's label of the same
    # paragraph wins); a folder of <doc_id>.txt for articles; the tweeteval root
    path: Any = MISSING
    round: str | None = None  # this build's round name; null: "round N" for N+1 input files
    delimiter: str | None = None  # csv/tsv: null means "," for csv and a tab for tsv
    sheet: str | None = None  # xlsx (also .xls, .ods): the sheet's name; null: the first sheet
    date_format: str = "%Y-%m-%d"  # strptime format of `date` cells; stored as YYYY-MM-DD
    label_sheet: str | None = None  # articles: CSV doc_id,paragraph_index,label[,target,...]
    columns: ColumnsConfig = field(default_factory=ColumnsConfig)
    labels: list[str] = MISSING  # the label set and its order, declared once
    # the no-stance label (F_avg leaves it out; articles' document stance ignores it), or null
    neutral_label: str | None = None
    # the headline metric (f_avg | f1_macro | accuracy), stated once: checkpoint choice, the
    # Optuna objective, the summary, report.html's heading and compare's ranking all use it
    metric: str = HEADLINE
    label_map: dict[str, str] = field(default_factory=dict)  # raw -> canonical (case-insensitive)
    targets: dict[str, str] = field(default_factory=dict)  # tweeteval: folder -> target phrase
    split: SplitConfig = field(default_factory=SplitConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    on_bad_rows: str = "error"  # error: stop at the first bad row | skip: write rejects.jsonl
    # train.py: keep this share of the train documents, nested and stratified (learning curves)
    train_fraction: float = 1.0
    # train.py: the train rows of these dataset configs (configs/dataset/<name>.yaml) are added
    # to this one's; validation and test stay this dataset's own (stance.data.auxiliary)
    auxiliary: list[str] = field(default_factory=list)


DatasetLike = DatasetConfig | DictConfig | dict  # a dataset node as configs hold it

_CHOICES = {
    "format": FORMATS,
    "split.strategy": ("grouped", "random", "time", "predefined", "kfold", *TARGET_SPLITS),
    "split.held_out_text": ("drop", "keep"),
    "split.assign": ("hash", "shuffle"),
    "dedup.exact": ("collapse", "report"),
    "dedup.conflicts": ("error", "drop", "majority", "keep"),
    "dedup.action": ("same_split", "drop", "report"),
    "on_bad_rows": ("error", "skip"),
}


def as_dataset_config(cfg: DatasetLike) -> DatasetConfig:
    """Validate a dataset node (DictConfig, dict or DatasetConfig) against the schema."""
    if isinstance(cfg, DatasetConfig):
        return cfg
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_container(cfg, resolve=True)
    name = cfg.get("name", "?") if isinstance(cfg, dict) else "?"
    where = f"dataset config '{name}'"
    try:
        merged = OmegaConf.merge(OmegaConf.structured(DatasetConfig), cfg)
        out: DatasetConfig = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        fix = "compare the keys with configs/dataset/csv_template.yaml"
        raise StanceError(problem(where, str(err).splitlines()[0], fix)) from None
    for key, allowed in _CHOICES.items():
        value = OmegaConf.select(merged, key)
        if value not in allowed:
            raise StanceError(
                problem(where, f"{key}={value!r} is not one of {allowed}", f"set {key}")
            )
    _check_path(out, where)
    if out.metric not in BATCH_METRICS:
        what = f"metric {out.metric!r} is not a headline metric"
        raise StanceError(problem(where, what, f"use one of {', '.join(BATCH_METRICS)}"))
    ratios = out.split.ratios
    if set(ratios) != set(SPLITS) or abs(sum(ratios.values()) - 1) > 1e-6:
        raise StanceError(
            problem(
                where,
                f"split.ratios {ratios} must give train, validation and test and sum to 1",
                "e.g. split.ratios={train:0.8,validation:0.1,test:0.1}",
            )
        )
    if out.delimiter is not None and len(out.delimiter) != 1:
        raise StanceError(
            problem(where, f"delimiter {out.delimiter!r} must be one character", "e.g. ';'")
        )
    if not 0 < (out.split.validation_from_train or 0.5) < 1:
        fix = "e.g. dataset.split.validation_from_train=0.1"
        raise StanceError(problem(where, "split.validation_from_train must be in (0, 1)", fix))
    folded = out.split.strategy in ("kfold", "target_kfold")
    if folded and not 0 <= out.split.fold < out.split.folds:
        what = f"split.fold={out.split.fold} is not one of the {out.split.folds} folds"
        raise StanceError(problem(where, what, f"use 0..{out.split.folds - 1}"))
    known = {*out.labels, *out.label_map.values()}
    if out.neutral_label is not None and out.neutral_label not in known:
        what = f"neutral_label {out.neutral_label!r} is neither one of labels nor mapped to"
        raise StanceError(problem(where, what, f"set it to one of {sorted(known)}, or null"))
    if len(set(out.labels)) != len(out.labels) or len(out.labels) < 2:
        raise StanceError(
            problem(where, f"labels {out.labels} must be 2+ distinct names", "fix `labels`")
        )
    return out


def _check_path(out: DatasetConfig, where: str) -> None:
    """`path` is a string, or (tabular formats) a non-empty list of strings."""
    if isinstance(out.path, str):
        return
    fix = "e.g. dataset.path=labels.csv or 'dataset.path=[labels.csv,round1/label_sheet.csv]'"
    if not isinstance(out.path, list) or not out.path:
        raise StanceError(problem(where, f"path {out.path!r} is not a file or a list", fix))
    if not all(isinstance(p, str) and p for p in out.path):
        raise StanceError(problem(where, f"path {out.path!r}: every entry must be a file", fix))
    if out.format in ("articles", "tweeteval"):
        what = f"format {out.format} reads one folder, not a list of files"
        raise StanceError(problem(where, what, "give dataset.path one folder"))


def folder_name(cfg: DatasetConfig) -> str:
    """The built dataset's folder: `name`, plus the fold (kfold) and the seed (follow_seed)."""
    name = cfg.name
    if cfg.split.strategy == "kfold":
        name += f"-fold{cfg.split.fold}of{cfg.split.folds}"
    if cfg.split.strategy == "target_kfold":
        name += f"-targetfold{cfg.split.fold}of{cfg.split.folds}"
    if cfg.split.follow_seed:
        name += f"-seed{cfg.split.seed}"
    return name


def config_dict(cfg: DatasetConfig) -> dict:
    """The config as plain JSON-able data (what the card stores and the fingerprint hashes)."""
    out = asdict(cfg)
    out.pop("auxiliary")  # read at train time, not by the build: it never makes one stale
    out.pop("train_fraction")  # applied after the build (stance.data.fractions)
    if out["split"]["strategy"] not in TARGET_SPLITS:
        out["split"].pop("held_out_text")  # no effect there: older builds stay current
    return out
