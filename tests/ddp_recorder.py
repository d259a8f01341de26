"""What every rank trained on, and its weights: a TrainerCallback the tests inject through config.

``model.callbacks=[{_target_:ddp_recorder.RankRecorder,folder:'DIR'}]`` (tests/ on PYTHONPATH).
Each rank appends to ``DIR/windows-rank<r>.jsonl`` a ``begin`` line per launch (world size, how
many windows it was given and a digest of them), then one line per training forward: the global
step and the indices of the windows in its batch; at every checkpoint it writes its weights as
``weights-rank<r>-step<n>.safetensors``. Callbacks are not shown the batch, so a forward pre-hook
on the model reads each training forward's ``input_ids`` and finds them in the train dataset.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback, TrainingArguments


def read_steps(folder: Path, rank: int) -> list[dict[Any, Any]]:
    """Each launch on ``rank``: its ``begin`` line's fields, and step -> window indices."""
    launches: list[dict[Any, Any]] = []
    for line in (folder / f"windows-rank{rank}.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.pop("begin", False):
            launches.append(entry)
        else:  # several forwards per step under gradient accumulation
            launches[-1].setdefault(entry["step"], []).extend(entry["windows"])
    return launches


class RankRecorder(TrainerCallback):
    """Records each rank's training windows per step and its weights at every checkpoint."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.rank = 0
        self.step = 0
        self.index: dict[tuple[int, ...], int] = {}
        self.hook: torch.utils.hooks.RemovableHandle | None = None

    def append(self, line: dict[str, Any]) -> None:
        """One JSON line in this rank's file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"windows-rank{self.rank}.jsonl", "a") as out:
            out.write(json.dumps(line) + "\n")

    def on_train_begin(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Mark a launch; hook the model's forward to see the batches."""
        dataset = kw["train_dataloader"].dataset
        ids = [list(row) for row in dataset["input_ids"]]
        self.index = {tuple(row): i for i, row in enumerate(ids)}
        digest = hashlib.sha256(json.dumps([ids, list(dataset["labels"])]).encode()).hexdigest()
        self.rank = args.process_index
        line = {"world_size": args.world_size, "windows": len(ids), "distinct": len(self.index)}
        self.append({"begin": True, **line, "data": digest[:16]})
        self.hook = kw["model"].register_forward_pre_hook(self.batch, with_kwargs=True)

    def on_step_begin(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """The optimizer steps done so far: the step the next forward belongs to."""
        self.step = state.global_step

    def batch(self, module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        """Record a training forward's windows (validation runs the model in eval mode)."""
        if not module.training:
            return
        rows = zip(kwargs["input_ids"], kwargs["attention_mask"].bool(), strict=True)
        windows = [self.index[tuple(ids[unpadded].tolist())] for ids, unpadded in rows]
        self.append({"step": self.step, "windows": windows})

    def on_save(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Write this rank's weights as ``weights-rank<r>-step<n>.safetensors``."""
        from safetensors.torch import save_model

        name = f"weights-rank{self.rank}-step{state.global_step}.safetensors"
        save_model(kw["model"], str(self.folder / name))

    def on_train_end(self, args: TrainingArguments, state: Any, control: Any, **kw: Any) -> None:
        """Unhook the model: what runs after training is not recorded."""
        if self.hook is not None:
            self.hook.remove()
