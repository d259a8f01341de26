"""Test hook of the transformer's training: what every rank trained on, and its weights.

Set ``$STANCE_DDP_RECORD`` to a folder and every rank appends the window indices of each batch
it trained on to ``windows-rank<r>.jsonl`` (a ``begin`` line marks each launch) and writes its
weights at every checkpoint; nothing is recorded otherwise. A test then checks the ranks' data
shards and that their gradients were synchronised (equal weights).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainingArguments

RECORD_ENV = "STANCE_DDP_RECORD"
WINDOW_INDEX = "window_index"  # column carried only while recording


def record_folder() -> Path | None:
    """The test hook's folder (``$STANCE_DDP_RECORD``), or None when not recording."""
    folder = os.environ.get(RECORD_ENV)
    return Path(folder) if folder else None


def append_record(folder: Path, rank: int, line: dict[str, Any]) -> None:
    """Append one JSON line to ``windows-rank<rank>.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"windows-rank{rank}.jsonl", "a") as out:
        out.write(json.dumps(line) + "\n")


class RankRecorder(TrainerCallback):
    """Test hook: each rank's weights at every checkpoint, and what data each launch started on."""

    def __init__(self, folder: Path, data_digest: str) -> None:
        self.folder = folder
        self.data_digest = data_digest

    def on_train_begin(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Mark a launch, with the digest of the windows this rank was given."""
        line = {"begin": True, "world_size": args.world_size, "data": self.data_digest}
        append_record(self.folder, args.process_index, line)

    def on_save(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Write this rank's weights as ``weights-rank<r>-step<n>.safetensors``."""
        from safetensors.torch import save_model

        name = f"weights-rank{args.process_index}-step{state.global_step}.safetensors"
        save_model(kw["model"], str(self.folder / name))


def window_digest(features: dict[str, list], labels: Sequence[int]) -> str:
    """A short hash of the training windows and their labels."""
    text = json.dumps([features["input_ids"], list(labels)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
