"""Inference: load a saved model, read inputs (files, folders, tables), label paragraphs, give
documents a stance, write resumable outputs."""

from stance.predict.documents import (
    DOCUMENT_RULE,
    NO_CLEAR_STANCE,
    document_stance,
    label_rows,
    label_units,
)
from stance.predict.loading import Predictor, load_model

__all__ = [
    "DOCUMENT_RULE",
    "NO_CLEAR_STANCE",
    "Predictor",
    "document_stance",
    "label_rows",
    "label_units",
    "load_model",
]
