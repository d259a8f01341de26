"""`model.callbacks`: TrainerCallbacks from config reach the transformer's Trainer (tiny BERT)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ddp_recorder import read_steps
from stance import models
from stance.errors import StanceError

ROWS, BATCH, EPOCHS = 24, 8, 2  # 3 steps per epoch
RECORDER_OVERRIDE = "model.callbacks=[{_target_:ddp_recorder.RankRecorder,folder:'/tmp/r'}]"


def tiny_config(tiny_bert: Path, callbacks: list) -> dict:
    """A transformer model config on the tiny BERT, ``callbacks`` as a config states them."""
    return {
        "_target_": "stance.models.transformer.model.TransformerStanceModel",
        "pretrained": str(tiny_bert),
        "max_length": 32,
        "stride": 8,
        "batch_size": BATCH,
        "max_steps": EPOCHS * ROWS // BATCH,
        "eval_steps": ROWS // BATCH,  # without validation: the checkpoint interval
        "save_steps": ROWS // BATCH,
        "progress_bar": False,
        "callbacks": callbacks,
    }


def test_a_callback_from_config_sees_every_training_batch(
    tiny_bert: Path, toy_split: Callable, tmp_path: Path
) -> None:
    recorder = {"_target_": "ddp_recorder.RankRecorder", "folder": str(tmp_path)}
    model = models.build(tiny_config(tiny_bert, [recorder])).fit(toy_split(ROWS, 0))

    (launch,) = read_steps(tmp_path, 0)
    assert launch["world_size"] == 1 and launch["windows"] == launch["distinct"] == ROWS
    steps = EPOCHS * ROWS // BATCH
    assert sorted(k for k in launch if isinstance(k, int)) == list(range(steps))
    for epoch in range(EPOCHS):  # each epoch trains on every window once
        span = range(epoch * ROWS // BATCH, (epoch + 1) * ROWS // BATCH)
        assert sorted(w for step in span for w in launch[step]) == list(range(ROWS))
    assert sorted(p.name for p in tmp_path.glob("weights-*")) == [
        "weights-rank0-step3.safetensors",
        "weights-rank0-step6.safetensors",
    ]
    assert model.fit_log_["steps"] == steps


def test_a_callbacks_entry_that_is_not_a_callback_is_named(
    tiny_bert: Path, toy_split: Callable
) -> None:
    model = models.build(tiny_config(tiny_bert, [{"folder": "x"}]))  # no _target_: a dict
    with pytest.raises(StanceError, match=r"(?s)model\.callbacks\[0\]: a dict.*_target_"):
        model.fit(toy_split(ROWS, 0))


def test_no_callbacks_keep_the_config_hash_and_a_recorder_changes_it() -> None:
    from omegaconf import OmegaConf

    from stance.experiment.training import config_hash
    from train_helpers import compose_cfg

    cfg = compose_cfg("train", ["model=transformer", "run_dir=/x"])
    assert cfg.model.callbacks is None
    before_the_field = OmegaConf.to_container(cfg, resolve=True)
    del before_the_field["model"]["callbacks"]  # a config composed before model.callbacks existed
    assert config_hash(cfg) == config_hash(OmegaConf.create(before_the_field))
    recorded = compose_cfg("train", ["model=transformer", "run_dir=/x", RECORDER_OVERRIDE])
    assert recorded.model.callbacks[0].folder == "/tmp/r"
    assert config_hash(recorded) != config_hash(cfg)  # a callback may change what is trained
