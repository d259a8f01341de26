"""`scripts/export.py`: a saved transformer or SetFit model as an ONNX folder, checked against
PyTorch first.

Nothing is written unless the ONNX probabilities match PyTorch's on the validation split within
``tolerance`` (and, with int8, its labels agree with PyTorch's on at least ``int8_min_agreement``
of the validation paragraphs); the figures measured go into the folder's ``stance_onnx.json``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset
from omegaconf import DictConfig

from stance import runs
from stance.data import prepare_dataset
from stance.errors import StanceError, problem
from stance.models.onnx_runtime import EXPORT_META, INT8_FILE, MODEL_FILE
from stance.models.onnx_setfit import open_export
from stance.predict import load_model

DEFAULT_DIR = "onnx"  # <model folder>/onnx/ unless `out=` says otherwise


def validation_split(
    model_folder: Path, dataset_cfg: DictConfig | None, processed_root: str
) -> Dataset:
    """The validation split of ``dataset_cfg``, else of the dataset the run was trained on."""

    if dataset_cfg is None:
        dataset_cfg = runs.trained_dataset(model_folder)
    if dataset_cfg is None:
        raise StanceError(
            problem(
                str(model_folder),
                f"no {runs.CONFIG_FILE} in {model_folder.parent} to say which dataset the model "
                "was trained on, so there is no validation split to check the export against",
                "add dataset=NAME (the dataset config the model was trained with)",
            )
        )
    dataset, _ = prepare_dataset(dataset_cfg, processed_root)
    if "validation" not in dataset or not len(dataset["validation"]):
        raise StanceError(
            problem(
                f"dataset {dataset_cfg.name!r}",
                "no validation rows to check the export against",
                "give a dataset= with a validation split",
            )
        )
    return dataset["validation"]


def out_folder(model_folder: Path, out: str | None) -> Path:
    """Where the export goes; an existing folder is replaced only if it is an earlier export."""
    folder = Path(out) if out else model_folder / DEFAULT_DIR
    if folder.exists() and any(folder.iterdir()) and not (folder / EXPORT_META).is_file():
        raise StanceError(
            problem(
                f"out={folder}",
                f"the folder exists and holds files that are not an ONNX export (no {EXPORT_META})",
                "give out= a new or empty folder",
            )
        )
    return folder


def export_model(
    model_path: str | Path,
    out: str | None = None,
    dataset_cfg: DictConfig | None = None,
    processed_root: str = "data/processed",
    int8: bool = False,
    tolerance: float = 1e-4,
    int8_min_agreement: float = 0.99,
    repeats: int = 3,
    opset: int | None = None,
) -> dict[str, Any]:
    """Export, check parity (and int8 agreement) on validation, time both runtimes, then write."""
    # torch.onnx and onnxscript load only when exporting, not for export.py --help
    from stance.export.onnx import export_onnx, exportable, quantize_int8, write_export_meta

    predictor = load_model(model_path)
    model = exportable(predictor.model, str(predictor.path))
    folder = out_folder(predictor.path, out)
    validation = validation_split(predictor.path, dataset_cfg, processed_root)
    if model.uses_target and "target" not in validation.column_names:
        fix = "give a dataset= whose rows have a target"
        raise StanceError(problem("validation split", "no target column for a pair model", fix))
    texts = list(validation["text"])
    targets = list(validation["target"]) if model.uses_target else None

    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        # before exporting: what the saved model says, whatever tracing may do to it
        reference = predictor.predict_proba(texts, targets)
        meta = export_onnx(model, scratch, opset)
        runtimes = {"onnx": open_export(scratch)}
        diff = float(np.abs(runtimes["onnx"].predict_proba(texts, targets) - reference).max())
        if not diff <= tolerance:  # `not <=`: a NaN fails too
            raise StanceError(
                problem(
                    f"{predictor.path} -> ONNX",
                    f"the ONNX probabilities differ from PyTorch's by up to {diff:.2e} on the "
                    f"{len(texts)} validation paragraphs (tolerance {tolerance:g}): nothing"
                    " written",
                    "report it with the model's config; another opset= may export differently",
                )
            )
        report: dict[str, Any] = {"paragraphs": len(texts), "max_abs_diff": diff}
        if int8:
            quantize_int8(scratch / MODEL_FILE, scratch / INT8_FILE)
            runtimes["int8"] = open_export(scratch, INT8_FILE)
            labels = runtimes["int8"].predict_proba(texts, targets).argmax(axis=1)
            agreement = float((labels == reference.argmax(axis=1)).mean())
            report["int8_label_agreement"] = agreement
            if agreement < int8_min_agreement:
                raise StanceError(
                    problem(
                        f"{predictor.path} -> int8 ONNX",
                        f"dynamic int8 gives PyTorch's label on only {agreement:.1%} of the "
                        f"{len(texts)} validation paragraphs (int8_min_agreement "
                        f"{int8_min_agreement:.0%}); nothing written",
                        "export without int8 (the fp32 model.onnx matches PyTorch within "
                        f"{diff:.1e}), or lower int8_min_agreement if those labels may change",
                    )
                )
        calls = {"pytorch": lambda: predictor.predict_proba(texts, targets)}
        calls.update({k: lambda r=r: r.predict_proba(texts, targets) for k, r in runtimes.items()})
        report["speed"] = timings(calls, repeats, meta["batch_size"])
        meta["validation"] = report
        write_export_meta(scratch, meta)
        if folder.exists():
            shutil.rmtree(folder)  # an earlier export (out_folder checked), replaced whole
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"folder": str(folder), **meta}


def timings(
    runtimes: dict[str, Callable[[], Any]], repeats: int, window_batch_size: int
) -> dict[str, Any]:
    """Median wall-clock seconds of each runtime over the same texts, calls interleaved so that
    a change in the machine's load falls on all of them alike."""
    import torch

    times: dict[str, list[float]] = {name: [] for name in runtimes}
    for _ in range(repeats):
        for name, run in runtimes.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    speedup = {k: median["pytorch"] / v for k, v in median.items() if k != "pytorch"}
    return {
        "seconds": median,
        "speedup_vs_pytorch": speedup,
        "repeats": repeats,
        "window_batch_size": window_batch_size,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def export_command(cfg: DictConfig) -> dict[str, Any]:
    """``scripts/export.py``: ``export_model`` from the config, then say what was written."""
    if cfg.format != "onnx":
        fix = "use format=onnx"
        raise StanceError(problem(f"format={cfg.format}", "not an export format", fix))
    result = export_model(
        cfg.model_path,
        out=cfg.out,
        dataset_cfg=cfg.dataset,
        processed_root=cfg.paths.processed_root,
        int8=cfg.int8,
        tolerance=cfg.tolerance,
        int8_min_agreement=cfg.int8_min_agreement,
        repeats=cfg.repeats,
        opset=cfg.opset,
    )
    check, speed = result["validation"], result["validation"]["speed"]
    print(f"exported {result['folder']}")
    print(
        f"  validation: {check['paragraphs']} paragraphs, max |ONNX - PyTorch| probability "
        f"{check['max_abs_diff']:.1e}"
        + (f", int8 labels agree on {check['int8_label_agreement']:.1%}" if cfg.int8 else "")
    )
    took = speed["seconds"]
    for name, ratio in speed["speedup_vs_pytorch"].items():
        print(
            f"  {name}: {took[name]:.2f} s vs PyTorch {took['pytorch']:.2f} s over validation "
            f"({ratio:.2f}x as fast; load average {speed['load_average'][0]:.2f})"
        )
    return result
