"""A model folder read as untrusted data: its JSON files and the files its family needs.

``check_folder`` runs before a family's ``load``: a folder cut short, edited by hand or crafted
stops with a message naming the file and the fix, never a KeyError or a JSONDecodeError; and no
file of it may be a link to somewhere outside it (a folder names no paths, links included).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stance import models
from stance.data.label_words import words_problem
from stance.data.overlap import RECORD_FILE
from stance.errors import StanceError
from stance.models.base import MODEL_META_FILE, StanceModel
from stance.models.trusted import integer, number, refuse

FIX = "restore the model folder from its run, or retrain the model"


def check_folder(folder: str | Path) -> dict[str, Any]:
    """``stance_model.json`` of ``folder``, after checking the folder (StanceError if broken)."""
    folder = Path(folder)
    no_links_out(folder)
    meta = read_json(folder / MODEL_META_FILE)
    if type(meta) is not dict:
        refuse(folder / MODEL_META_FILE, "not a JSON object", FIX)
    check_meta(folder / MODEL_META_FILE, meta)
    check_record(folder / RECORD_FILE, meta["classes"])
    models.model_class(meta["family"]).check_folder(folder, meta)  # the family's own
    return meta


def no_links_out(folder: Path) -> None:
    """Refuse a file or folder inside ``folder`` that links to a place outside it."""
    root = folder.resolve()
    for parent, dirs, files in os.walk(folder):  # links are listed, not followed
        for name in dirs + files:
            path = Path(parent) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                what = f"a link to {path.resolve()}, outside the model folder"
                refuse(path, what, "copy the file into the model folder instead of linking it")


def read_json(file: Path) -> Any:
    """A JSON file of a model folder; a message when it is missing, cut short or not UTF-8."""
    if not file.is_file():
        refuse(file.parent, f"no {file.name} in this model folder", FIX)
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        refuse(file, f"not valid JSON (cut short or edited?): {err}", FIX)


def is_names(value: Any, at_least: int = 0) -> bool:
    """A list of distinct non-empty strings, ``at_least`` of them."""
    return (
        type(value) is list and len(value) >= at_least and len(set(value)) == len(value)
        and all(type(v) is str and v for v in value)
    )  # fmt: skip


def check_meta(file: Path, meta: dict[str, Any]) -> None:
    """The keys every family reads: ``family``, ``classes``, ``seen_targets``, ``params``."""
    try:
        models.model_class(meta.get("family"))
    except StanceError:
        what = f"family {meta.get('family')!r} is not one of {sorted(models.families())}"
        refuse(file, what, "was it written by another program or version? retrain the model")
    if not is_names(meta.get("classes"), 2):
        what = (
            f"classes must list two or more distinct label names, not {meta.get('classes')!r:.80}"
        )
        refuse(file, what, FIX)
    for key in ("seen_targets", "targets"):
        if meta.get(key) is not None and not is_names(meta[key]):
            refuse(file, f"{key} must be a list of distinct target names", FIX)


def check_record(file: Path, classes: list[str] | None = None) -> None:
    """``training_data.json`` (optional): the split -> text hashes evaluation compares with, and
    the dataset's words for ``classes`` (``label_words``, optional)."""
    if not file.exists():
        return
    record = read_json(file)
    rows = record.get("rows") if type(record) is dict else None
    hashes = type(rows) is dict and all(
        type(h) is list and all(type(x) is str for x in h) for h in rows.values()
    )
    neutral = record.get("neutral_label") if type(record) is dict else None
    if not hashes or not (neutral is None or type(neutral) is str):
        what = "not a training record: `rows` must map each split to a list of text hashes"
        refuse(file, what, FIX + " (without the file, evaluation cannot check overlap)")
    words = record.get("label_words")
    if words is not None and classes is not None and (what := words_problem(words, classes)):
        refuse(file, what, FIX + ", or delete label_words (labels are then written as the model's)")


def construct(cls: type[StanceModel], params: Any, file: Path) -> Any:
    """``cls(**params)`` for the ``params`` of ``stance_model.json``, which must name its
    constructor's arguments (an unknown key is named, not a TypeError) and pass the checks its
    ``fit`` would make (``check_params``)."""
    names = cls.param_names()
    if type(params) is not dict:
        refuse(file, f"params must be an object with keys among {names}", FIX)
    unknown = sorted(set(params) - set(names))
    if unknown:
        what = f"params holds {unknown}, which {cls.__name__} does not take"
        refuse(file, what, f"remove them (it takes {sorted(names)}), or retrain the model")
    try:
        model = cls(**params)
        model.check_params()
    except Exception as err:  # the checks' StanceError, a TypeError, ...
        refuse(file, f"params do not make a {cls.__name__}: {err}", FIX)
    return model


def needs(*names: str) -> Any:
    """The check of a family saved as ``names`` plus constructor ``params`` in the metadata."""

    def check(folder: Path, meta: dict[str, Any]) -> None:
        for name in names:
            if not (folder / name).exists():
                refuse(folder, f"no {name} in this {meta['family']} model folder", FIX)
        if type(meta.get("params")) is not dict:
            refuse(
                folder / MODEL_META_FILE, "params must be an object of constructor arguments", FIX
            )

    return check


def transformer_folder(folder: Path, meta: dict[str, Any]) -> None:
    """A fine-tuned transformer's folder: safetensors weights, its settings, its labels."""
    if not (folder / "model.safetensors").is_file():
        only_pickle = (folder / "pytorch_model.bin").exists()
        what = "its weights are a pickle (pytorch_model.bin)" if only_pickle else "no weights"
        refuse(folder, f"{what}: a transformer folder holds model.safetensors", FIX)
    file = folder / MODEL_META_FILE
    for key, rule in (("max_length", integer(8, 1 << 16)), ("stride", integer(0, 1 << 16)),
                      ("predict_batch_size", integer(1, 1 << 16)), ("pretrained", str),
                      ("uses_target", bool), ("temperature", number(1e-6, 1e6))):  # fmt: skip
        value = meta.get(key, 1.0 if key == "temperature" else None)
        if not (isinstance(value, rule) if isinstance(rule, type) else rule(value)):
            refuse(file, f"{key} is missing or not a valid value ({value!r:.40})", FIX)
    config = read_json(folder / "config.json")
    labels = config.get("id2label") if type(config) is dict else None
    try:
        names = [labels[str(i)] for i in range(len(labels))] if type(labels) is dict else None
    except KeyError:
        names = None
    if names != meta["classes"]:
        what = f"classes {meta['classes']} are not the labels config.json holds, in order: {names}"
        refuse(file, what, f"set classes to {names} in {file.name}, or retrain the model")


def ensemble_folder(folder: Path, meta: dict[str, Any]) -> None:
    """An ensemble's folder: its member list, weights and one member folder each."""
    members, weights = meta.get("members"), meta.get("weights")
    file = folder / MODEL_META_FILE
    if type(members) is not list or not members or not all(type(m) is str for m in members):
        refuse(file, "members must list the member runs the ensemble was built from", FIX)
    if (
        type(weights) is not list
        or len(weights) != len(members)
        or not all(map(number(0), weights))
    ):
        refuse(file, f"weights must give one number per member ({len(members)})", FIX)
    parts = folder / "members"
    found = sorted(p.name for p in parts.iterdir()) if parts.is_dir() else []
    if found != sorted(str(i) for i in range(len(members))):
        what = f"members/ holds {found}, not one folder per member 0..{len(members) - 1}"
        refuse(folder / "members", what, FIX)
