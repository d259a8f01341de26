"""Fetch the TweetEval stance files (SemEval-2016 Task 6) from the cardiffnlp/tweeteval repository.

    python scripts/download_tweeteval.py [--out DIR] [--ref main] [--force]

Writes ``<DIR>/<target>/{train,val,test}_{text,labels}.txt`` and ``<DIR>/mapping.txt``, the layout
``dataset=tweeteval_stance`` reads; targets and the default DIR come from that dataset config.
Needs a network; tests and offline machines use a copy (../shared/benchmarks/tweeteval_stance).
"""

from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from omegaconf import OmegaConf

from stance.cli import user_errors
from stance.errors import StanceError, problem

ROOT = Path(__file__).resolve().parents[1]
DATASET_CONFIG = ROOT / "configs" / "dataset" / "tweeteval_stance.yaml"
REPO_RAW = "https://raw.githubusercontent.com/cardiffnlp/tweeteval/{ref}/datasets/stance"
SPLITS = ("train", "val", "test")

Fetch = Callable[[str], bytes]


def targets() -> list[str]:
    """The target folders, as ``configs/dataset/tweeteval_stance.yaml`` declares them."""
    return list(OmegaConf.load(DATASET_CONFIG).targets)


def layout() -> list[str]:
    """Every file of the benchmark, relative to its folder."""
    files = ["mapping.txt"]
    for target in targets():
        files += [f"{target}/{split}_{kind}.txt" for split in SPLITS for kind in ("text", "labels")]
    return files


def fetch_url(url: str, timeout: float = 30.0) -> bytes:
    """GET ``url``; a network failure becomes a StanceError that says how to get the files."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise StanceError(
            problem(
                url,
                f"could not download ({getattr(err, 'reason', err)}); is this machine offline?",
                "run this script where there is a network, or copy the folder datasets/stance "
                "of github.com/cardiffnlp/tweeteval by hand into --out",
            )
        ) from err


def check_aligned(folder: Path) -> None:
    """Every split's text and label files must have the same number of lines."""
    for target in targets():
        for split in SPLITS:
            text = folder / target / f"{split}_text.txt"
            labels = folder / target / f"{split}_labels.txt"
            n_text, n_labels = (len(f.read_text().splitlines()) for f in (text, labels))
            if n_text != n_labels:
                raise StanceError(
                    problem(
                        str(labels),
                        f"{n_labels} labels for {n_text} lines of {text.name}",
                        "download again with --force (the transfer may have been cut short)",
                    )
                )


def download(out: Path, fetch: Fetch = fetch_url, ref: str = "main", force: bool = False) -> bool:
    """Fetch every file into ``out``; False when all were there already and ``force`` is off."""
    files = layout()
    if not force and all((out / f).is_file() for f in files):
        return False
    base = REPO_RAW.format(ref=ref)
    for rel in files:
        data = fetch(f"{base}/{rel}")
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, dest)  # a cut-off run never leaves a half-written file under its name
    check_aligned(out)
    return True


def default_out() -> Path:
    """The folder ``dataset=tweeteval_stance`` reads (its config's ``path``; $TWEETEVAL_DIR)."""
    return Path(str(OmegaConf.load(DATASET_CONFIG).path))


@user_errors
def main(argv: list[str] | None = None, fetch: Fetch = fetch_url) -> None:
    """Parse the arguments and download."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: config)")
    parser.add_argument("--ref", default="main", help="git branch, tag or commit of tweeteval")
    parser.add_argument("--force", action="store_true", help="download even if files exist")
    args = parser.parse_args(argv)
    out = args.out or default_out()
    if download(out, fetch, ref=args.ref, force=args.force):
        print(f"wrote {len(layout())} files into {out}")
    else:
        print(f"{out} already holds every file (use --force to download again)")
    print(f"use it: TWEETEVAL_DIR={out} python scripts/train.py dataset=tweeteval_stance")


if __name__ == "__main__":
    main()
