"""Write compare's tables: Markdown (also printed), CSV, a PNG chart and a self-contained page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and in tests
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from stance import pages
from stance.compare import learning_curve, round_scores, selection
from stance.compare.cells import fmt, html_table, interval
from stance.compare.learning_curve import Curve
from stance.compare.round_scores import RoundsView
from stance.compare.table import CompareConfig, SectionTable, compare

CURVE_PNG = "learning_curve.png"
# comparison.html's own rules, after pages.BASE_STYLE: wider, the best row stands out.
STYLE = "body{max-width:1200px}tr.best{font-weight:600;background:#eef6ee}img{max-width:100%}"


def section_title(st: SectionTable) -> str:
    """Heading of a section: dataset and labelling round by name and date (by fingerprint and
    test-set digest for runs recorded without their round), and the test set's size."""
    s = st.section
    name = f"{s.dataset} — {s.title}" if s.title else s.dataset
    if s.fingerprint.startswith("kfold"):
        return f"{name} (cross-validation: {s.fingerprint})"
    size = f", {len(st.test_set.ids)} test examples" if st.test_set else ""
    if s.title:
        return name + size
    return f"{s.dataset} (dataset {s.fingerprint[:12]}, test set {s.test_digest or '?'}{size})"


def _cells(st: SectionTable, cfg: CompareConfig) -> tuple[list[str], list[list[str]]]:
    """One section's column names and formatted rows (the Markdown and HTML tables share them)."""
    scale = 100.0 if cfg.percent else 1.0
    t, h = st.table, cfg.headline
    cv = "folds" in t.columns
    runs = ["runs", "folds"] if cv else ["seeds"]
    pooled = [f"{h} pooled out-of-fold"] if cv else []
    columns = ["config", *runs, *cfg.metrics, *pooled, f"{int(cfg.confidence * 100)}% CI ({h})"]
    test = "corrected resampled t-test" if cv else cfg.test
    columns += [f"p vs best ({test})", "verdict", "not complete"]
    rows = []
    for _, row in t.iterrows():
        cells = [row["config"], *(str(int(row[c])) for c in runs)]
        for m in cfg.metrics:
            std = "" if pd.isna(row[f"{m} std"]) else f" ± {fmt(row[f'{m} std'], scale)}"
            cells.append(fmt(row[m], scale) + std)
        cells += [fmt(row[f"{h} pooled"], scale)] if cv else []
        cells.append(interval(row[f"{h} ci_low"], row[f"{h} ci_high"], scale))
        p = row["p_vs_best"]
        cells.append("–" if pd.isna(p) else f"{p:.3f}{' *' if row['significant'] else ''}")
        cells.append(verdict(p, cfg.alpha, bool(row["best"])))
        cells.append(row["not_complete"] or "")
        rows.append(cells)
    return columns, rows


def verdict(p: float, alpha: float, best: bool) -> str:
    """The test result in words."""
    if best:
        return "best"
    if pd.isna(p):
        return "not tested (no shared test predictions or folds)"
    if p < alpha:
        return f"worse than the best (p = {p:.3f})"
    return f"indistinguishable from the best (p = {p:.2f})"


def _note(cfg: CompareConfig) -> str:
    scale = 100.0 if cfg.percent else 1.0
    return (
        f"mean ± std over seeds (x{scale:g}); CI: bootstrap over test examples of the seed-mean "
        f"{cfg.headline}; p: {cfg.test} against the best row, * when p < {cfg.alpha}. "
        "Cross-validation sections: mean ± std over the folds' runs; pooled: the score of every "
        "row's out-of-fold prediction, CI: bootstrap over documents; p: Nadeau & Bengio's "
        "corrected resampled t-test on the per-fold differences."
    )


def _curve_cells(curve: Curve, cfg: CompareConfig) -> tuple[list[str], list[list[str]], list[str]]:
    """A learning curve's columns, rows (family x fraction) and one sentence per family."""
    scale = 100.0 if cfg.percent else 1.0
    h = cfg.headline
    what = "pooled out-of-fold" if f"{h} pooled" in curve.section.table else "mean"
    ci = f"{int(cfg.confidence * 100)}% CI"
    columns = ["family", "train fraction", "training labels (mean)", f"{h} {what}", ci, "runs"]
    rows = [
        [r.family, f"{r.fraction:g}", "–" if pd.isna(r.labels) else f"{r.labels:,.0f}",
         fmt(r.score, scale), interval(r.low, r.high, scale), str(r.runs)]
        for r in curve.points.itertuples()
    ]  # fmt: skip
    said = []
    for family, text in curve.sentences.items():
        fit = curve.fits[family]
        said.append(text + (f" [fit: {fit.formula(scale)}]" if fit else ""))
    return columns, rows, said


def _curve_note(curve: Curve, cfg: CompareConfig) -> str:
    scale = 100.0 if cfg.percent else 1.0
    return (
        f"Target {fmt(curve.target, scale)}: {curve.target_note}. Training labels: the rows each "
        "model trained on (its training_data.json), mean over the point's runs. Fit: a power law "
        "a - b n^-c weighted by the intervals (a line in ln n below four fractions); beyond the "
        "most labels it is an extrapolation, a guide and not a measurement."
    )


def markdown(
    sections: Sequence[SectionTable],
    cfg: CompareConfig,
    curves: Sequence[Curve] = (),
    rounds: Sequence[RoundsView] = (),
) -> str:
    """All sections as Markdown tables, followed by the runs that are not complete, the
    learning curves and labels vs score across labelling rounds."""
    out = []
    for st in sections:
        columns, rows = _cells(st, cfg)
        lines = [f"## {section_title(st)}", "", pages.markdown_table(columns, rows)]
        if st.not_complete:
            lines += ["", "Runs not complete (listed, not used):"]
            lines += [f"- `{r.path}`: {r.status}" for r in st.not_complete]
        held = selection.interrupted_lines(st.interrupted, cfg.include_interrupted)
        lines += ["", *held] if held else []
        out.append("\n".join(lines))
    for curve in curves:
        columns, rows, said = _curve_cells(curve, cfg)
        title = f"## Learning curve: {section_title(curve.section)}"
        lines = [title, "", pages.markdown_table(columns, rows)]
        lines += ["", *(f"- {text}" for text in said), "", _curve_note(curve, cfg)]
        lines += ["", f"![learning curve](comparison_{CURVE_PNG})"]
        out.append("\n".join(lines))
    for view in rounds:
        title, columns, rows, said = view.cells(cfg)
        table = pages.markdown_table(columns, rows)
        lines = [f"## {title}", "", table, "", said, "", round_scores.NOTE]
        out.append("\n".join(lines))
    return "\n\n".join([*out, _note(cfg)]) + "\n"


def html_page(
    sections: Sequence[SectionTable],
    cfg: CompareConfig,
    png: Path,
    curves: Sequence[Curve] = (),
    curve_png: Path | None = None,
    rounds: Sequence[RoundsView] = (),
) -> str:
    """comparison.html: the tables, the test results in words and the chart, self-contained; then
    the learning curves with their figure, and labels vs score across labelling rounds."""
    esc = html.escape
    parts = ["<h1>Comparison</h1>"]
    for st in sections:
        columns, rows = _cells(st, cfg)
        head = "".join(f"<th>{esc(c)}</th>" for c in columns)
        body = "".join(
            "<tr" + (' class="best"' if cells[-2] == "best" else "") + ">"
            + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>"
            for cells in rows
        )  # fmt: skip
        parts += [f"<h2>{esc(section_title(st))}</h2>", f"<table><tr>{head}</tr>{body}</table>"]
        parts += [f"<p class='muted'>not complete: {esc(str(r.path))} ({esc(r.status)})</p>"
                  for r in st.not_complete]  # fmt: skip
        held = selection.interrupted_lines(st.interrupted, cfg.include_interrupted)
        parts += [f"<p class='muted'>{esc(line)}</p>" for line in held]
    parts += [pages.inline_png(png.read_bytes(), "chart"), f"<p>{esc(_note(cfg))}</p>"]
    for curve in curves:
        columns, rows, said = _curve_cells(curve, cfg)
        parts += [f"<h2>Learning curve: {esc(section_title(curve.section))}</h2>"]
        parts += [html_table(columns, rows), "<ul>"]
        parts += [f"<li>{esc(text)}</li>" for text in said]
        parts += ["</ul>", f"<p class='muted'>{esc(_curve_note(curve, cfg))}</p>"]
    if curves and curve_png is not None:
        parts.append(pages.inline_png(curve_png.read_bytes(), "learning curve"))
    for view in rounds:
        title, columns, rows, said = view.cells(cfg)
        parts += [f"<h2>{esc(title)}</h2>", html_table(columns, rows), f"<p>{esc(said)}</p>"]
        parts.append(f"<p class='muted'>{esc(round_scores.NOTE)}</p>")
    return pages.html_page("Comparison", parts, STYLE)


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
        cv = f"{h} pooled" in t.columns
        if cv:  # the interval is the pooled out-of-fold score's
            mean = t[f"{h} pooled"].to_numpy(float) * scale
        err = np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0)
        what = (
            "pooled out-of-fold, document-bootstrap CI" if cv else "mean over seeds, bootstrap CI"
        )
        ax.errorbar(mean, y, xerr=err, fmt="o", color="tab:blue", capsize=4, label=what)
        for k, (yi, label) in enumerate(zip(y, t["config"], strict=True)):
            seeds = np.asarray(st.seed_scores.get(label, []), float) * scale
            each = ("each fold" if cv else "each seed") if k == 0 else None
            ax.scatter(seeds, np.full(len(seeds), yi + 0.15), s=12, color="tab:gray", label=each)
        best = t.index[t["best"]]
        ax.scatter(mean[best], best, marker="*", s=160, color="tab:orange", zorder=3, label="best")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
        ax.set_yticks(y, t["config"])
        ax.set_title(section_title(st), fontsize=9)
        ax.set_xlabel(h + (" (x100)" if cfg.percent else ""))
        ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_report(sections: Sequence[SectionTable], cfg: CompareConfig) -> dict[str, Path]:
    """Write ``comparison.{md,csv,png,html}`` into ``cfg.out_dir``, and
    ``comparison_learning_curve.png`` when a section has runs at several train fractions."""
    cfg = selection.ranked_by(cfg, sections)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f"comparison.{k}" for k in ("md", "csv", "png", "html")}
    curves = learning_curve.curves(list(sections), cfg)
    if curves:
        paths["learning_curve"] = out / f"comparison_{CURVE_PNG}"
        titles = [section_title(c.section) for c in curves]
        learning_curve.figure(curves, titles, cfg, paths["learning_curve"])
    by_round = round_scores.views(list(sections), cfg)
    paths["md"].write_text(markdown(sections, cfg, curves, by_round))
    csv_table(sections).to_csv(paths["csv"], index=False)
    chart(sections, cfg, paths["png"])
    page = html_page(sections, cfg, paths["png"], curves, paths.get("learning_curve"), by_round)
    paths["html"].write_text(page, encoding="utf-8")
    return paths


def compare_command(cfg: DictConfig) -> None:
    """``scripts/compare.py``: print the comparison and write it as Markdown, CSV, PNG and HTML
    into ``out_dir``."""
    settings = OmegaConf.to_object(cfg)
    paths = write_report(compare(settings), settings)
    print(paths["md"].read_text())
    print("wrote " + ", ".join(str(p) for p in paths.values()))
