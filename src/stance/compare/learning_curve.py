"""Will labelling more help? The headline against the number of training labels, per family.

A section whose configs differ in ``dataset.train_fraction`` (nested, grouped, stratified shares of
the train documents: ``stance.data.fractions``) gets one point per (family, fraction): the number
of training rows (mean over the runs, read from each model's ``training_data.json``: the rows it
was trained on), and the section table's own score and interval (under cross-validation the
pooled out-of-fold score with its document-bootstrap interval, ``stance.compare.cv``). A family is
a config with the fraction left out. Per family a power law ``score(n) = a - b * n^-c`` is fitted
(weighted by the intervals, bounded: a <= 1, c in [0.01, 2]), or a line in log n when the family
has fewer than four fractions, and solved for the target score.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and in tests
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as scipy_stats

from stance import runs
from stance.compare.records import Config
from stance.compare.selection import ranked_by
from stance.compare.table import DEFAULT, CompareConfig, SectionTable, _value, _varying_keys
from stance.data import overlap
from stance.errors import StanceError, problem

KEY = "dataset.train_fraction"
FAR = 100  # beyond this many times the labels, the sentence gives no number
MIN_POWER_LAW = 4  # distinct label counts needed for three parameters and one degree of freedom


@dataclass
class Fit:
    """A fitted curve of score against the number of labels ``n``."""

    kind: str  # "power law" | "log-linear"
    params: tuple[float, ...]  # (a, b, c) | (intercept, slope of ln n)

    def __call__(self, n: np.ndarray | float) -> np.ndarray:
        """The fitted score at ``n`` labels."""
        n = np.asarray(n, dtype=float)
        if self.kind == "power law":
            a, b, c = self.params
            return a - b * n ** (-c)
        return self.params[0] + self.params[1] * np.log(n)

    def labels_for(self, score: float) -> float:
        """The number of labels at which the fit reaches ``score``; inf when it never does."""
        if self.kind == "power law":
            a, b, c = self.params
            return (b / (a - score)) ** (1 / c) if a > score and b > 0 else math.inf
        intercept, slope = self.params
        return math.exp((score - intercept) / slope) if slope > 0 else math.inf

    def formula(self, scale: float) -> str:
        """The fit in words, the score x ``scale``."""
        if self.kind == "power law":
            a, b, c = self.params
            ceiling = " (a at its bound: no ceiling in sight)" if a > 0.999 else ""
            return f"power law {a * scale:.1f} - {b * scale:.3g} n^-{c:.2f}{ceiling}"
        return f"log-linear {self.params[0] * scale:.1f} + {self.params[1] * scale:.2f} ln n"


def fit_curve(n: np.ndarray, score: np.ndarray, sigma: np.ndarray | None = None) -> Fit | None:
    """A bounded power law through the points, or a line in ln n when there are too few of them
    (or the power law does not converge); None with fewer than two label counts."""
    n, score = np.asarray(n, float), np.asarray(score, float)
    ok = np.isfinite(n) & np.isfinite(score) & (n > 0)
    n, score = n[ok], score[ok]
    sigma = None if sigma is None else np.asarray(sigma, float)[ok]
    if sigma is not None and not (np.isfinite(sigma).all() and (sigma > 0).all()):
        sigma = None
    if len(np.unique(n)) < 2:
        return None
    if len(np.unique(n)) >= MIN_POWER_LAW:
        a0 = min(1.0, score.max() + 0.05)
        p0 = (a0, max(a0 - score.min(), 1e-3) * n.min() ** 0.5, 0.5)
        try:
            params, _ = optimize.curve_fit(
                lambda x, a, b, c: a - b * x ** (-c), n, score, p0=p0, sigma=sigma,
                bounds=([0.0, 0.0, 0.01], [1.0, np.inf, 2.0]), maxfev=20000,
            )  # fmt: skip
            return Fit("power law", tuple(float(p) for p in params))
        except (RuntimeError, ValueError):
            pass
    slope, intercept = np.polyfit(np.log(n), score, 1, w=None if sigma is None else 1 / sigma)
    return Fit("log-linear", (float(intercept), float(slope)))


def train_labels(run_path: Path) -> float:
    """The number of rows the run's model trained on (its training record), or NaN."""
    record = run_path / runs.MODEL_DIR / overlap.RECORD_FILE
    if not record.is_file():
        return math.nan
    return float(len(json.loads(record.read_text())["rows"].get("train", [])))


@dataclass
class Curve:
    """One section's learning curve: points per family and fraction, fits and sentences."""

    section: SectionTable
    points: pd.DataFrame  # family, fraction, labels, score, low, high, runs
    fits: dict[str, Fit | None]
    target: float
    target_note: str
    sentences: dict[str, str] = field(default_factory=dict)


def _family(values: dict[str, str]) -> str:
    """A family's name: the one varying value, or key=value pairs when several vary."""
    if len(values) == 1:
        return next(iter(values.values()))
    return " ".join(f"{k}={v}" for k, v in values.items()) or "(defaults)"


def points(st: SectionTable, headline: str) -> pd.DataFrame:
    """One row per config of the section: its family, fraction, labels, score and interval."""
    keys = _varying_keys(st.section)
    configs: dict[tuple, Config] = {
        tuple(_value(c, k) for k in keys): c for c in st.section.configs
    }
    pooled = f"{headline} pooled"
    column = pooled if pooled in st.table.columns else headline
    rows = []
    for _, row in st.table.iterrows():
        config = configs[tuple(row[k] for k in keys)]
        model = {"model": _value(config, "model")}  # a single family is named by its model
        fraction = row[KEY] if KEY in row and row[KEY] != DEFAULT else "1.0"
        labels = [train_labels(r.path) for r in config.complete]
        rows.append(
            {
                "family": _family({k: row[k] for k in keys if k != KEY} or model),
                "fraction": float(fraction),
                "labels": float(np.nanmean(labels)) if np.isfinite(labels).any() else math.nan,
                "score": row[column],
                "low": row[f"{headline} ci_low"],
                "high": row[f"{headline} ci_high"],
                "runs": len(config.complete),
            }
        )
    return pd.DataFrame.from_records(rows).sort_values(["family", "fraction"], ignore_index=True)


def sentence(
    family: str, pts: pd.DataFrame, fit: Fit | None, target: float, horizon: float, scale: float
) -> str:
    """The family's answer in words: its score at its most labels and where the fit reaches the
    target."""
    top = pts.loc[pts["fraction"].idxmax()]
    n_top, s_top = float(top["labels"]), float(top["score"])
    t = f"{target * scale:.{1 if scale == 100 else 3}f}"
    head = f"{family}: {s_top * scale:.1f} at {n_top:,.0f} labels"
    if s_top >= target:
        return f"{head}; already at or above {t}"
    if fit is None:
        return f"{head}; too few label counts to fit a curve"
    need = fit.labels_for(target)
    if not math.isfinite(need):
        power = fit.kind == "power law"
        level = f" (it levels off at {fit.params[0] * scale:.1f})" if power else ""
        return f"{head}; the {fit.kind} fit never reaches {t}{level}"
    if need > horizon * n_top:
        far = need > FAR * n_top  # a number that far out is the fit's arithmetic, not a guide
        where = f"beyond {FAR:g}x" if far else f"at about {need:,.0f}"
        about = f"the {fit.kind} fit puts it {where}"
        return f"{head}; does not reach {t} within {horizon:g}x the labels ({about})"
    where = "extrapolated" if need > n_top else "within the measured range"
    return (
        f"{head}; the {fit.kind} fit reaches {t} at about {need:,.0f} labels "
        f"({where}, x{need / n_top:.1f} the labels)"
    )


def curves(sections: list[SectionTable], cfg: CompareConfig) -> list[Curve]:
    """The learning curve of every section whose configs have more than one train_fraction."""
    cfg = ranked_by(cfg, sections)
    out = []
    settings = cfg.learning_curve
    scale = 100.0 if cfg.percent else 1.0
    if settings.target is not None and not 0 < settings.target <= 1:
        raise StanceError(
            problem(
                "configs/compare.yaml: learning_curve.target",
                f"{settings.target} is not a score in (0, 1]",
                "give it in the metric's raw units, e.g. learning_curve.target=0.6 for 60 points",
            )
        )
    for st in sections:
        if KEY not in st.table.columns:
            continue
        pts = points(st, cfg.headline)
        if pts["fraction"].nunique() < 2:
            continue
        z = scipy_stats.norm.ppf(1 - (1 - cfg.confidence) / 2)
        fits = {}
        for family, group in pts.groupby("family", sort=False):
            sigma = (group["high"] - group["low"]).to_numpy(float) / (2 * z)
            fits[family] = fit_curve(group["labels"], group["score"], sigma)
        tops = pts.sort_values("fraction").groupby("family").tail(1)
        tops = tops.sort_values("score", ascending=False, na_position="last")
        best = tops.iloc[0]
        if settings.target is None:
            target = float(best["score"]) + settings.gain
            note = (
                f"the best family's score at its most labels ({best['family']}, "
                f"{best['score'] * scale:.1f}) + {settings.gain * scale:g}"
            )
        else:
            target, note = float(settings.target), "learning_curve.target"
        curve = Curve(st, pts, fits, target, note)
        for family in tops["family"]:  # the best family first
            group = pts[pts["family"] == family]
            curve.sentences[family] = sentence(
                family, group, fits[family], target, settings.horizon, scale
            )
        out.append(curve)
    return out


def figure(items: list[Curve], titles: list[str], cfg: CompareConfig, path: Path) -> None:
    """Score with its interval against the labels (log scale), a line per family, fits dashed."""
    scale = 100.0 if cfg.percent else 1.0
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(len(items), 1, figsize=(8, 4.5 * len(items)), squeeze=False)
    for ax, curve, title in zip(axes[:, 0], items, titles, strict=True):
        groups = curve.points.dropna(subset=["labels"]).groupby("family", sort=False)
        for i, (family, g) in enumerate(groups):
            color = colors[i % len(colors)]
            g = g.sort_values("labels")
            y = g["score"].to_numpy(float) * scale
            err = np.vstack([y - g["low"] * scale, g["high"] * scale - y])
            ax.errorbar(g["labels"], y, yerr=np.nan_to_num(err), fmt="o-", color=color,
                        capsize=3, label=family)  # fmt: skip
            fit = curve.fits.get(family)
            if fit is None:
                continue
            top, need = g["labels"].max(), fit.labels_for(curve.target)
            right = min(max(2 * top, 1.2 * need), cfg.learning_curve.horizon * top)
            xs = np.geomspace(g["labels"].min(), right if math.isfinite(right) else 2 * top, 100)
            ax.plot(xs, fit(xs) * scale, "--", color=color, label=f"{family}: {fit.kind} fit")
        ax.axhline(curve.target * scale, color="gray", ls=":", label="target")
        ax.set_xscale("log")
        ax.set_xlabel("training labels (rows; mean over the runs of each point)")
        what = "pooled out-of-fold" if f"{cfg.headline} pooled" in curve.section.table else "mean"
        ax.set_ylabel(f"{cfg.headline} {what}" + (" (x100)" if cfg.percent else ""))
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
