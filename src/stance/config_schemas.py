"""Dataclass schemas of the top-level train / evaluate / predict configs (a typo fails loudly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from stance.data.schema import DatasetConfig
from stance.models.transformer.settings import TrainSettings


@dataclass
class PathsConfig:
    """Where built datasets are read from and runs are written to: configs/paths/default.yaml."""

    processed_root: str = MISSING  # built datasets: <processed_root>/<dataset.name>/
    runs_root: str = MISSING  # single runs: <runs_root>/<dataset>/<model>/<overrides>/
    sweeps_root: str = MISSING  # -m sweeps: <sweeps_root>/<sweep>/<dataset>/<model>/<overrides>/


@dataclass
class BuildDatasetConfig:
    """``scripts/build_dataset.py``: build one dataset into <paths.processed_root>/<name>/."""

    dataset: DatasetConfig = MISSING  # configs/dataset/<name>.yaml
    paths: PathsConfig = field(default_factory=PathsConfig)
    force: bool = False  # rebuild even when the stored config_fingerprint matches


@dataclass
class EvaluationConfig:
    """Which splits to score and how the headline interval is computed."""

    splits: list[str] = field(default_factory=lambda: ["validation", "test"])  # splits scored
    bootstrap: int = 1000  # resamples for the F_avg interval; 0 turns it off
    confidence: float = 0.95  # of the bootstrap interval
    # a target (source, group_by value) with fewer rows in a split is not scored alone: report.html
    # and metrics.json pool such values as one "other targets (N)" row (by_target/_other/...)
    min_group_rows: int = 5
    # more columns to slice the metrics and report.html by (by_<column>/<value>/...), e.g. [shot];
    # each must be kept from the input with dataset.columns.extra
    group_by: list[str] = field(default_factory=list)


@dataclass
class DistributedConfig:
    """Data-parallel training of the transformer family: launch with ``torchrun
    --nproc_per_node=N scripts/train.py model=minilm ...`` (or accelerate launch, or
    hydra/launcher=slurm_ddp); model.batch_size is per rank, so the global batch is N times it.
    Read only under such a launch; a single process never starts a process group."""

    backend: str = "auto"  # auto: nccl on GPUs, gloo on CPU | nccl | gloo
    timeout_s: int = 1800  # how long a rank waits for the others (dataset build, checkpoints)


@dataclass
class RunLockConfig:
    """One train.py writes a run folder at a time (stance.folders.writer_lock): it holds
    <run_dir>/.stance.lock for the whole run (the holder is named in .stance.lock.json). Not in the
    folder name: both commands find the same folder, and it is written by one process."""

    wait: bool = False  # another train.py holds the folder: false stops (exit 2), true waits


@dataclass
class TrainConfig:
    """``scripts/train.py``: build/load a dataset, fit a model, evaluate, write the run record."""

    dataset: DatasetConfig = MISSING  # configs/dataset/<name>.yaml
    model: Any = MISSING  # configs/model/<name>.yaml (`_target_`, `name`, hyperparameters)
    logger: Any = MISSING  # configs/logger/<name>.yaml (`_target_`)
    trainer: Any = None  # optional group for model families that take trainer settings
    paths: PathsConfig = field(default_factory=PathsConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    run_lock: RunLockConfig = field(default_factory=RunLockConfig)
    seed: int = 0  # passed explicitly to the model (via its config) and to the bootstrap
    rerun: bool = False  # true: train again even if the run directory holds a complete run
    run_dir: str = "${hydra:runtime.output_dir}"  # the run directory (tests point it at tmp)
    sweep_name: str = "sweep"  # <paths.sweeps_root>/<sweep_name>/... for -m sweeps
    optimized_metric: str | None = None  # e.g. validation/f_avg: what scripts/train.py returns
    # a line on stderr as each phase starts (model fit, calibration, evaluation, report) and bars
    # for the long ones; false: quiet. The model's own switch, model.progress_bar, follows it
    progress: bool = True


@dataclass
class EvaluateConfig:
    """``scripts/evaluate.py``: re-evaluate a saved model on any dataset."""

    model_path: str = MISSING  # a run directory or a model folder (`model=PATH` on the CLI)
    dataset: DatasetConfig = MISSING
    allow_overlap: bool = False  # true: score only the rows the model has not trained on
    paths: PathsConfig = field(default_factory=PathsConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    seed: int = 0  # of the bootstrap resampling
    run_dir: str = "${hydra:runtime.output_dir}"  # where the evaluation record is written
    progress: bool = True  # a line on stderr as each phase starts; false: quiet


@dataclass
class DocumentConfig:
    """When an article's document stance is "no clear stance" (stance.predict.documents).

    The thresholds are stated here once: `document.<field>=` on the command line, the service and
    `label_rows` all take this object.
    """

    min_paragraphs: int = 2  # fewer stance-bearing paragraphs than this: no clear stance
    min_margin: float = 0.1  # top two stance labels' mean probabilities closer than this
    # page furniture (stance.data.furniture: bylines, datelines and dates, captions and credits,
    # share/subscribe/newsletter lines) is marked furniture=true and never counts; false: it counts
    furniture: bool = True
    # more furniture: regular expressions a whole paragraph matches, ignoring case ('copyright .*')
    furniture_patterns: list[str] = field(default_factory=list)


@dataclass
class InputConfig:
    """What predict.py and suggest.py read: a model and texts to label."""

    model_path: str = MISSING  # a run directory or a model folder (`model=PATH` on the CLI)
    input: str | None = None  # a file, a folder (read recursively) or a glob; null or '-': stdin
    input_format: str | None = None  # txt|csv|tsv|jsonl|parquet|xlsx; null: each file's extension
    # tables: our field -> your column, as in a dataset config; a field mapped to its own name
    # (the default) is read when the table has such a column; null: not read
    columns: dict[str, Any] = field(
        default_factory=lambda: {"text": "text", "id": "id", "doc_id": "doc_id", "target": "target"}
    )
    delimiter: str | None = None  # csv/tsv: null means "," for csv and a tab for tsv
    sheet: str | None = None  # xlsx: the sheet's name; null: the first sheet
    target: str | None = None  # the policy of every text without a target column or sidecar
    batch_size: int = 256  # paragraphs per model call


@dataclass
class PredictConfig(InputConfig):
    """``scripts/predict.py``: label articles or tables with a saved model."""

    # .jsonl, .csv, .parquet or .xlsx (a paragraphs and an articles sheet); null or '-': JSONL
    # on stdout. Labels come in the training dataset's own words (label_map), label_canonical
    # keeps the model's; the document rule is stated once, in <output>.stance.json
    output: str | None = None
    output_format: str | None = None  # jsonl|csv|parquet|xlsx; default from the extension
    excel: bool = False  # csv: start the file with a UTF-8 BOM, so that Excel shows accents right
    resume: bool = True  # an existing output: skip the documents it holds, append the rest
    progress: bool = True  # a progress bar on stderr (files done, rows written)
    document: DocumentConfig = field(default_factory=DocumentConfig)
    # one job's part of the input (0 to num_shards-1), by a hash of each document's name; its
    # rows go to <output stem>.shard-<i>-of-<N><suffix>: `-m shard='range(N)' num_shards=N`
    shard: int = 0
    num_shards: int = 1  # 1: the whole input into output=
    merge: bool = False  # true: join the shards of output= into it (the model is not loaded)


@dataclass
class ReviewConfig:
    """``suggest.py``'s review sheet: labelled rows whose label is likely wrong (predict.review)."""

    sheet: bool = True  # write review_sheet.csv beside the label sheet
    folds: int = 5  # grouped by doc_id; fewer when there are fewer documents
    # the sheet lists this many flagged rows, most likely wrong first (a weak out-of-fold model
    # doubts many right labels: the demo's TF-IDF, 64% accurate out of fold, flags 197 of 680)
    max_rows: int = 50
    # the out-of-fold model, a configs/model/ node as train.py builds it (model@review.model=NAME)
    model: Any = None


@dataclass
class SuggestConfig(InputConfig):
    """``scripts/suggest.py``: the paragraphs to label next, as a label sheet."""

    n: int = 200  # paragraphs to choose
    max_per_document: int = 3  # at most this many from one document per round
    out: str = "labelling/next_round"  # the folder for the sheet and the Label Studio files
    force: bool = False  # replace a label sheet already in `out` (it may hold labels)
    # the dataset config whose columns the sheet gets; null: the one the model was trained on.
    # Its paragraphs (all splits) are never suggested again, and its labels are reviewed
    dataset: DatasetConfig | None = None
    paths: PathsConfig = field(default_factory=PathsConfig)  # where that dataset is built
    furniture: bool = True  # leave out bylines, datelines, captions, share lines, short ones
    min_words: int = 5  # with furniture: paragraphs of fewer words are left out too
    # 0: the most uncertain paragraphs; up to 1: more weight on being unlike those picked (MMR)
    diversity: float = 0.3
    review: ReviewConfig = field(default_factory=ReviewConfig)
    seed: int = 0  # the review model's seed and its folds' shuffle


@dataclass
class ExportConfig:
    """``scripts/export.py``: a transformer model as an ONNX folder, checked on validation first."""

    model_path: str = MISSING  # a run directory or a model folder (`model=PATH` on the CLI)
    format: str = "onnx"  # the only format so far
    out: str | None = None  # the export folder; null: <model folder>/onnx/
    dataset: DatasetConfig | None = None  # checked on its validation split; null: the run's own
    paths: PathsConfig = field(default_factory=PathsConfig)
    tolerance: float = 1e-4  # max |ONNX - PyTorch| probability on validation; above: no export
    int8: bool = False  # also write model.int8.onnx (dynamic int8 quantization)
    int8_min_agreement: float = 0.99  # int8 labels equal to PyTorch's on validation, at least
    repeats: int = 3  # timed passes over the validation texts per runtime (the median is kept)
    opset: int | None = None  # ONNX opset; null: the exporter's default


@dataclass
class ServeConfig:
    """``scripts/serve.py``: an HTTP API over a saved model (stance.serve.service)."""

    model_path: str = MISSING  # a run directory or a model folder (`model=PATH` on the CLI)
    host: str = "127.0.0.1"  # a non-loopback address needs api_key (or allow_unauthenticated)
    port: int = 8000  # TCP port to listen on
    # requests must send it as the X-API-Key header (GET /health excepted); null: no key.
    # serve.yaml reads $STANCE_API_KEY, which keeps the key out of shell history and `ps`
    api_key: str | None = None
    allow_unauthenticated: bool = False  # true: listen on a non-loopback host without a key
    max_texts: int = 256  # texts per request, every route: /predict's texts, /articles' paragraphs
    max_text_chars: int = 5000  # characters per text (and per target)
    max_article_chars: int = 200_000  # characters per article in POST /articles
    batch_size: int = 256  # paragraphs per model call
    max_concurrent: int = 8  # requests labelled at once; one more gets 503 with Retry-After
    docs: bool = False  # serve /docs, /redoc and /openapi.json (behind the API key when one is set)
    document: DocumentConfig = field(default_factory=DocumentConfig)


@dataclass
class TransformerModelConfig(TrainSettings):
    """Schema of configs/model/transformer.yaml: the training fields come, with their defaults
    and help lines, from `TrainSettings`; the YAML states only the model's own settings."""

    _target_: str = "stance.models.transformer.model.TransformerStanceModel"
    name: str = MISSING
    pretrained: str = MISSING  # a folder, a hub id, or a packaged encoder
    max_length: int = MISSING  # tokens per window, special tokens and target included
    stride: int = MISSING  # tokens shared by consecutive windows of one paragraph
    predict_batch_size: int = MISSING  # windows per forward pass when labelling
    checkpoint_dir: str | None = None  # where a killed run resumes from
    keep_checkpoints: bool = MISSING  # false: delete the checkpoints once fit succeeds
    calibrate: bool = MISSING  # fit a softmax temperature on validation
    use_target: bool = MISSING  # (target, text) pairs when the data has a target; false: text


def register() -> None:
    """Store the schemas in Hydra's ConfigStore (configs name them in their defaults list)."""
    store = ConfigStore.instance()
    store.store(group="model", name="transformer_schema", node=TransformerModelConfig)
    store.store(name="build_dataset_schema", node=BuildDatasetConfig)
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="evaluate_schema", node=EvaluateConfig)
    store.store(name="predict_schema", node=PredictConfig)
    store.store(name="suggest_schema", node=SuggestConfig)
    store.store(name="serve_schema", node=ServeConfig)
    store.store(name="export_schema", node=ExportConfig)


register()
