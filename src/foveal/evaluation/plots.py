"""Report figures as PNG bytes, drawn with matplotlib's object API (no pyplot, no global backend)."""

from __future__ import annotations

import csv
import functools
import io
import warnings
from pathlib import Path

import numpy as np
from sklearn import metrics as skm

MAX_CURVES = 10
DPI = 110


FALLBACK_FONTS = ("DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Droid Sans Fallback",
                  "Noto Sans", "Noto Color Emoji", "Noto Emoji", "Symbola")


@functools.cache
def _font_files() -> dict[str, str]:
    """The fallback fonts installed here: name → file (matplotlib's font list, no file is opened)."""
    from matplotlib import font_manager

    found: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in FALLBACK_FONTS and entry.name not in found and entry.style == "normal":
            found[entry.name] = entry.fname
    return found


@functools.cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """The fallback fonts that load, in preference order, and every code point they can draw
    (reading the charmaps costs a fraction of a second: only names outside ASCII need it)."""
    from matplotlib.ft2font import FT2Font

    found, covered = [], set()
    for name, path in _font_files().items():
        try:
            covered |= set(FT2Font(path).get_charmap())
        except (OSError, RuntimeError):
            continue
        found.append(name)
    return _ordered(found), frozenset(covered)


def _ordered(names) -> tuple[str, ...]:
    return tuple(sorted(names, key=FALLBACK_FONTS.index)) or ("DejaVu Sans",)


def plot_names(names: list[str], limit: int = 14) -> list[str]:
    """Class names as figures can draw them: shortened, and ``#k`` (the class's row in the report's
    tables) when no installed font has a glyph for them — the HTML tables keep the real names."""
    covered = None if all(name.isascii() for name in names) else _fonts()[1]  # DejaVu Sans draws ASCII
    out = []
    for k, name in enumerate(names):
        drawable = not covered or all(ord(c) in covered or c.isspace() for c in name)
        text = name if drawable else f"#{k + 1}"
        out.append(text if len(text) <= limit else text[:limit - 1] + "…")
    return out


def _figure(width: float, height: float, ncols: int = 1, nrows: int = 1, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def drawn(fn):
    """Draw a figure with the fallback fonts; glyph warnings are not the user's concern
    (``plot_names`` already replaced names no installed font can draw)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from matplotlib import rc_context

        with rc_context({"font.family": list(_ordered(_font_files()))}), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing from")
            return fn(*args, **kwargs)

    return wrapper


@drawn
def confusion_heatmap(classes: list[str], counts: list[list[int]], normalized: list[list[float]]) -> bytes:
    """Row-normalised heat map; cells are annotated with counts when the matrix is small enough to read."""
    n = len(classes)
    side = min(11.0, max(4.0, 0.45 * n + 2))
    fig, axes = _figure(side + 1.2, side)
    ax = axes[0, 0]
    image = ax.imshow(np.asarray(normalized), cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    ticks = np.arange(n)
    names = plot_names(classes)
    ax.set_xticks(ticks, names, rotation=90 if n > 6 else 0, fontsize=8 if n > 15 else 9)
    ax.set_yticks(ticks, names, fontsize=8 if n > 15 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 25:
        norm = np.asarray(normalized)
        for i in range(n):
            for j in range(n):
                if counts[i][j]:
                    ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=7 if n > 12 else 9,
                            color="white" if norm[i, j] > 0.55 else "#1b2a3a")
    return _png(fig)


def _curve_sets(task_type: str, classes: list[str], y: np.ndarray, proba: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, binary truth, score) per curve: the positive class, or one-vs-rest per class/label."""
    if task_type == "binary":
        return [(plot_names(classes)[1], (y == 1).astype(int), proba[:, 1])]
    truth = y if y.ndim == 2 else (y[:, None] == np.arange(len(classes))[None, :]).astype(int)
    keep = [j for j in range(len(classes)) if 0 < truth[:, j].sum() < len(truth)]
    if len(keep) > MAX_CURVES:  # too many to read: pool them (micro-average)
        return [("micro-average", truth[:, keep].ravel(), proba[:, keep].ravel())]
    shown = plot_names(classes, limit=24)
    return [(shown[j], truth[:, j], proba[:, j]) for j in keep]


@drawn
def roc_pr_curves(task_type: str, classes: list[str], y: np.ndarray, proba: np.ndarray,
                  marks: dict | None = None) -> bytes | None:
    """ROC (left) and precision-recall (right) curves; None when no class has both outcomes."""
    curves = _curve_sets(task_type, classes, y, proba)
    if not curves:
        return None
    fig, axes = _figure(10, 4.4, ncols=2)
    roc, pr = axes[0]
    for name, truth, score in curves:
        fpr, tpr, _ = skm.roc_curve(truth, score)
        roc.plot(fpr, tpr, lw=1.6, label=f"{name} (AUC {skm.auc(fpr, tpr):.3f})")
        precision, recall, _ = skm.precision_recall_curve(truth, score)
        pr.plot(recall, precision, lw=1.6, drawstyle="steps-post",
                label=f"{name} (AP {skm.average_precision_score(truth, score):.3f})")
    for label, point in (marks or {}).items():  # chosen thresholds: Youden on ROC, best F1 on PR
        if "fpr" in point:
            roc.plot(point["fpr"], point["tpr"], "o", ms=7, label=label)
        else:
            pr.plot(point["recall"], point["precision"], "o", ms=7, label=label)
    roc.plot([0, 1], [0, 1], ls="--", c="#999", lw=1)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.02))
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    for ax in (roc, pr):
        ax.legend(fontsize=7, loc="lower right" if ax is roc else "lower left")
        ax.grid(alpha=0.3)
    return _png(fig)


@drawn
def reliability_diagram(bins: list[dict], ece: float, n_bins: int = 15) -> bytes:
    """Observed frequency against confidence per bin, with the sample count per bin underneath."""
    fig, axes = _figure(5.2, 5.4, nrows=2, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    top, bottom = axes[0, 0], axes[1, 0]
    width = 1.0 / n_bins
    lowers = [b["lower"] for b in bins]
    top.bar(lowers, [b["accuracy"] for b in bins], width=width, align="edge", color="#4c78a8",
            edgecolor="white", label="observed")
    top.bar(lowers, [b["confidence"] - b["accuracy"] for b in bins], bottom=[b["accuracy"] for b in bins],
            width=width, align="edge", color="#e45756", alpha=0.35, edgecolor="#e45756", label="gap")
    top.plot([0, 1], [0, 1], ls="--", c="#555", lw=1, label="perfect calibration")
    top.set(ylabel="observed frequency", title=f"reliability (ECE {ece:.4f})", xlim=(0, 1), ylim=(0, 1))
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(lowers, [b["count"] for b in bins], width=width, align="edge", color="#9ecae9", edgecolor="white")
    bottom.set(xlabel="predicted probability (confidence)", ylabel="samples")
    return _png(fig)


@drawn
def threshold_plot(y: np.ndarray, score: np.ndarray, chosen: dict) -> bytes:
    """Precision, recall and F1 of the positive class as the threshold moves."""
    precision, recall, thresholds = skm.precision_recall_curve(y, score)
    p, r = precision[:-1], recall[:-1]
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    fig, axes = _figure(5, 3.4)
    ax = axes[0, 0]
    for values, name in ((p, "precision"), (r, "recall"), (f1, "F1")):
        ax.plot(thresholds, values, lw=1.6, label=name, drawstyle="steps-post")
    by_value: dict[float, list[str]] = {}
    for name, t in chosen.items():  # one line and one label per distinct threshold
        by_value.setdefault(round(t, 4), []).append(name)
    for t, names in by_value.items():
        ax.axvline(t, ls="--", lw=1, c="#555")
        ax.text(t, 0.03, f" {' = '.join(names)} {t:.3f}", rotation=90, fontsize=8, va="bottom", ha="right")
    ax.set(xlabel="threshold on P(positive)", ylim=(0, 1.02), xlim=(0, 1), title="threshold analysis")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


@drawn
def bar_chart(values: dict[str, float], title: str, xlabel: str = "", ylabel: str = "") -> bytes:
    fig, axes = _figure(max(4.0, 0.6 * len(values) + 2), 3.2)
    ax = axes[0, 0]
    ax.bar(list(values), list(values.values()), color="#4c78a8")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def read_metrics_csv(path: Path) -> tuple[str, dict[str, list[float]]] | None:
    """(x column, numeric columns) of a run's ``metrics.csv``; None when it holds no numbers."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    columns: dict[str, list[float]] = {}
    for name in rows[0]:
        try:
            columns[name] = [float(r[name]) if r[name] not in ("", None) else np.nan for r in rows]
        except (TypeError, ValueError):
            continue
    x = next((c for c in ("epoch", "step", "iteration") if c in columns), None)
    if x is None:
        columns["row"] = list(range(1, len(rows) + 1))
        x = "row"
    return (x, columns) if len(columns) > 1 else None


def _unit_scale(values: list[float]) -> bool:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return len(finite) > 0 and finite.min() >= 0.0 and finite.max() <= 1.0


@drawn
def learning_curves(path: Path) -> bytes | None:
    """Losses (left) and every other metric (right) against the epoch column of ``metrics.csv``."""
    parsed = read_metrics_csv(path)
    if parsed is None:
        return None
    x, columns = parsed
    series = {k: v for k, v in columns.items() if k != x}
    losses = {k: v for k, v in series.items() if "loss" in k}
    others = {k: v for k, v in series.items()  # scores on a 0-1 scale; not lr, throughput or timings
              if k not in losses and not k.startswith("lr") and not k.endswith("seconds") and _unit_scale(v)}
    panels = [(n, s) for n, s in (("loss", losses), ("metrics", others)) if s]
    if not panels:
        return None
    fig, axes = _figure(5 * len(panels), 3.6, ncols=len(panels))
    for ax, (name, group) in zip(axes[0], panels):
        for key, values in group.items():
            ax.plot(columns[x], values, marker="o", ms=3, lw=1.5, label=key)
        ax.set(xlabel=x, title=name)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return _png(fig)


@drawn
def grouped_bars(models: list[str], metrics: dict[str, list[float | None]], title: str) -> bytes:
    """One group of bars per metric, one bar per model."""
    names = list(metrics)
    fig, axes = _figure(max(6.0, 1.3 * len(names) + 2), 3.8)
    ax = axes[0, 0]
    width = 0.8 / max(1, len(models))
    x = np.arange(len(names))
    for j, model in enumerate(models):
        heights = [np.nan if metrics[m][j] is None else metrics[m][j] for m in names]
        ax.bar(x + j * width - 0.4 + width / 2, heights, width=width, label=model)
    ax.set_xticks(x, names, fontsize=9)
    ax.set(title=title, ylim=(0, 1.05))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


@drawn
def roc_overlay(curves: list[tuple[str, np.ndarray, np.ndarray]]) -> bytes:
    """ROC curves of several models (name, binary truth, positive-class score) on one plot."""
    fig, axes = _figure(5.4, 4.6)
    ax = axes[0, 0]
    for name, truth, score in curves:
        fpr, tpr, _ = skm.roc_curve(truth, score)
        ax.plot(fpr, tpr, lw=1.6, label=f"{name} (AUC {skm.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", c="#999", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _png(fig)
