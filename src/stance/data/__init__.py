"""Datasets: read labeled paragraphs, validate, dedup, split, save with a card; split articles."""

from stance.data.build import (
    build_dataset,
    ensure_dataset,
    is_current,
    load_processed,
    prepare_dataset,
)
from stance.data.card import read_card
from stance.data.paragraphs import paragraph_id, split_paragraphs
from stance.data.schema import DatasetConfig, as_dataset_config, folder_name

__all__ = [
    "DatasetConfig",
    "as_dataset_config",
    "build_dataset",
    "ensure_dataset",
    "folder_name",
    "is_current",
    "load_processed",
    "paragraph_id",
    "prepare_dataset",
    "read_card",
    "split_paragraphs",
]
