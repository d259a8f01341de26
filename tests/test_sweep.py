"""Sweeps (launcher configs, a real multirun through submitit_local) and the TweetEval download."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from stance.errors import StanceError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks" / "tweeteval_stance"


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- scripts/download_tweeteval.py ------------------------------------------------------------
@pytest.fixture
def download():
    """The download script as a module."""
    return load_script("download_tweeteval")


def shared_copy() -> Path:
    """The offline copy of the benchmark; skip when this machine has none."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


def test_download_writes_the_repository_layout(download, tmp_path):
    source = shared_copy()
    prefix = download.REPO_RAW.format(ref="v1") + "/"
    asked = []

    def fake_fetch(url: str) -> bytes:
        asked.append(url)
        assert url.startswith(prefix)
        return (source / url.removeprefix(prefix)).read_bytes()

    out = tmp_path / "tweeteval"
    assert download.download(out, fetch=fake_fetch, ref="v1")
    assert len(asked) == 31  # 5 targets x 3 splits x (text, labels) + mapping.txt
    for rel in download.layout():
        assert (out / rel).read_bytes() == (source / rel).read_bytes()
    assert "hillary/test_labels.txt" in download.layout()
    # A second call finds every file and fetches nothing.
    assert not download.download(out, fetch=lambda url: pytest.fail(f"fetched {url}"))


def test_download_rejects_misaligned_files(download, tmp_path):
    def short_labels(url: str) -> bytes:
        return b"0\n" if url.endswith("_labels.txt") else b"one\ntwo\n"

    with pytest.raises(StanceError, match="1 labels for 2 lines"):
        download.download(tmp_path / "t", fetch=short_labels)


def test_download_offline_is_a_clear_error(download, tmp_path, capsys):
    # Port 9 on localhost refuses the connection at once, like a machine without a network.
    with pytest.raises(StanceError, match="offline"):
        download.fetch_url("http://127.0.0.1:9/mapping.txt", timeout=5)

    def offline(url: str, timeout: float = 30.0) -> bytes:
        return download.fetch_url("http://127.0.0.1:9/" + url.rsplit("/", 1)[-1], timeout=5)

    with pytest.raises(SystemExit) as exit_:
        download.main(["--out", str(tmp_path / "t")], fetch=offline)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "offline" in err and "Traceback" not in err
    assert not any((tmp_path / "t").rglob("*.txt"))
