"""Write compare's tables: Markdown (also printed), CSV, and a PNG chart of the headline metric."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and in tests
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from stance.compare import CompareConfig, SectionTable


def section_title(st: SectionTable) -> str:
    """Heading of a section: dataset, fingerprint, test-set digest and size."""
    s = st.section
    if s.fingerprint.startswith("kfold"):
        return f"{s.dataset} (cross-validation: {s.fingerprint})"
    size = f", {len(st.test_set.ids)} test examples" if st.test_set else ""
    return f"{s.dataset} (dataset {s.fingerprint[:12]}, test set {s.test_digest or '?'}{size})"


def _fmt(value: float, scale: float) -> str:
    """A metric value for the Markdown table."""
    return "–" if pd.isna(value) else f"{value * scale:.{1 if scale == 100 else 3}f}"


def markdown(sections: Sequence[SectionTable], cfg: CompareConfig) -> str:
    """All sections as Markdown tables, followed by the runs that are not complete."""
    scale = 100.0 if cfg.percent else 1.0
    out = []
    for st in sections:
        t, h = st.table, cfg.headline
        cv = "folds" in t.columns
        runs = ["runs", "folds"] if cv else ["seeds"]
        pooled = [f"{h} pooled out-of-fold"] if cv else []
        columns = ["config", *runs, *cfg.metrics, *pooled, f"{int(cfg.confidence * 100)}% CI ({h})"]
        test = "corrected resampled t-test" if cv else cfg.test
        columns += [f"p vs best ({test})", "not complete"]
        lines = [f"## {section_title(st)}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "---|" * len(columns))
        for _, row in t.iterrows():
            cells = [row["config"], *(str(int(row[c])) for c in runs)]
            for m in cfg.metrics:
                std = "" if pd.isna(row[f"{m} std"]) else f" ± {_fmt(row[f'{m} std'], scale)}"
                cells.append(_fmt(row[m], scale) + std)
            cells += [_fmt(row[f"{h} pooled"], scale)] if cv else []
            low, high = row[f"{h} ci_low"], row[f"{h} ci_high"]
            cells.append("–" if pd.isna(low) else f"[{_fmt(low, scale)}, {_fmt(high, scale)}]")
            p = row["p_vs_best"]
            cells.append("–" if pd.isna(p) else f"{p:.3f}{' *' if row['significant'] else ''}")
            cells.append(row["not_complete"] or "")
            lines.append("| " + " | ".join(cells) + " |")
        if st.not_complete:
            lines += ["", "Runs not complete (listed, not used):"]
            lines += [f"- `{r.path}`: {r.status}" for r in st.not_complete]
        out.append("\n".join(lines))
    note = (
        f"mean ± std over seeds (x{scale:g}); CI: bootstrap over test examples of the seed-mean "
        f"{cfg.headline}; p: {cfg.test} against the best row, * when p < {cfg.alpha}. "
        "Cross-validation sections: mean ± std over the folds' runs; pooled: the score of every "
        "row's out-of-fold prediction, CI: bootstrap over documents; p: Nadeau & Bengio's "
        "corrected resampled t-test on the per-fold differences."
    )
    return "\n\n".join([*out, note]) + "\n"


def csv_table(sections: Sequence[SectionTable]) -> pd.DataFrame:
    """All sections in one frame, raw values, with the section's dataset and test-set columns."""
    frames = []
    for st in sections:
        frame = st.table.copy()
        # Prefixed: the table's own columns are override keys (`dataset` among them, possibly).
        frame.insert(0, "section.test_set", st.section.test_digest)
        frame.insert(0, "section.fingerprint", st.section.fingerprint)
        frame.insert(0, "section.dataset", st.section.dataset)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def chart(sections: Sequence[SectionTable], cfg: CompareConfig, path: Path) -> None:
    """Headline mean per config with its bootstrap interval (bars) and each seed (dots)."""
    scale = 100.0 if cfg.percent else 1.0
    h = cfg.headline
    heights = [max(1.5, 0.45 * len(st.table) + 1) for st in sections]
    fig, axes = plt.subplots(len(sections), 1, figsize=(8, sum(heights)), squeeze=False)
    fig.subplots_adjust(hspace=0.6)
    for ax, st in zip(axes[:, 0], sections, strict=True):
        t = st.table.iloc[::-1].reset_index(drop=True)  # best on top
        y = np.arange(len(t))
        mean = t[h].to_numpy(float) * scale
        low = t[f"{h} ci_low"].to_numpy(float) * scale
        high = t[f"{h} ci_high"].to_numpy(float) * scale
        err = np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0)
        ax.errorbar(mean, y, xerr=err, fmt="o", color="tab:blue", capsize=4, label="mean, CI")
        for yi, label in zip(y, t["config"], strict=True):
            seeds = np.asarray(st.seed_scores.get(label, []), float) * scale
            ax.scatter(seeds, np.full(len(seeds), yi + 0.15), s=12, color="tab:gray")
        ax.set_yticks(y, t["config"])
        ax.set_title(section_title(st), fontsize=9)
        ax.set_xlabel(h + (" (x100)" if cfg.percent else ""))
        ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_report(sections: Sequence[SectionTable], cfg: CompareConfig) -> dict[str, Path]:
    """Write ``comparison.md``, ``comparison.csv`` and ``comparison.png`` into ``cfg.out_dir``."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f"comparison.{k}" for k in ("md", "csv", "png")}
    paths["md"].write_text(markdown(sections, cfg))
    csv_table(sections).to_csv(paths["csv"], index=False)
    chart(sections, cfg, paths["png"])
    return paths
