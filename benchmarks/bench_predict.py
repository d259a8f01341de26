"""Bulk inference: peak memory and speed of predict.py over folders of 1x and 10x the articles.

    python benchmarks/bench_predict.py [--model runs/demo/tfidf_logreg/default] [--articles 500]

Writes --articles and 10 x --articles synthetic articles (6 paragraphs each) into a temporary
folder, labels each folder with scripts/predict.py in a fresh process (output CSV), and prints
each run's peak RSS and time, and the ratios between the two sizes. Streaming means the memory
ratio stays near 1 while the time ratio is near 10. Needs a trained model (the main job's).
The speed of every family against ``transformers.pipeline`` (paragraphs/s, and end to end through
predict.py): ``benchmarks/bench_throughput.py``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "the",
    "senate",
    "bill",
    "aid",
    "tariffs",
    "vote",
    "support",
    "oppose",
    "policy",
    "said",
    "would",
    "farmers",
    "trade",
]


def write_articles(folder: Path, n: int) -> None:
    """``n`` articles of six pseudo-random paragraphs of 40 words."""
    folder.mkdir(parents=True)
    for i in range(n):
        paragraphs = [
            " ".join(WORDS[(i * 7 + p * 3 + w * w) % len(WORDS)] for w in range(40)).capitalize()
            + "."
            for p in range(6)
        ]
        (folder / f"a{i:06d}.txt").write_text("\n\n".join(paragraphs) + "\n")


def label(model: str, folder: Path, out: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one predict.py process over ``folder``."""
    code = (
        "import resource, runpy, sys; sys.argv = sys.argv[1:]; "
        "\ntry:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass"
        "\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    args = [sys.executable, "-c", code, str(ROOT / "scripts" / "predict.py"), f"model={model}",
            f"input={folder}", f"output={out}", "progress=false"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/demo/tfidf_logreg/default")
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in (args.articles, 10 * args.articles):
            folder = Path(tmp) / f"in{n}"
            write_articles(folder, n)
            seconds, rss = label(args.model, folder, Path(tmp) / f"out{n}.csv")
            rows = sum(1 for _ in (Path(tmp) / f"out{n}.csv").open()) - 1
            results[n] = (seconds, rss)
            print(f"{n:>7} articles: {rows} rows in {seconds:.1f} s "
                  f"({n / seconds:.0f} articles/s), peak RSS {rss:.0f} MB")  # fmt: skip
    small, large = results[args.articles], results[10 * args.articles]
    print(f"10x the articles: time x{large[0] / small[0]:.2f}, peak RSS x{large[1] / small[1]:.2f}")
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
