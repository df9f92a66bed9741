"""The HTML page of `foveal compare`: a side-by-side table, a bar chart and, for binary tasks, ROC curves."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from foveal.evaluation import plots
from foveal.evaluation.compare import Entry, best_of
from foveal.evaluation.metrics import HEADLINE
from foveal.evaluation.report_html import esc, figure, fmt, page, section, table
from foveal.files import atomic_write_text


def comparison_rows(entries: list[Entry]) -> tuple[list[str], list[list]]:
    """Header and rows (one per model) of the comparison table: headline metrics, size, speed."""
    task = entries[0].evaluation.result["task"]
    metrics = [m for m in HEADLINE[task] if any(m in e.evaluation.result["metrics"] for e in entries)]
    header = ["model", "kind", *metrics, "size (MB)", "ms / image", "train (s)"]
    rows = []
    for e in entries:
        m = e.evaluation.result["metrics"]
        rows.append([e.name, e.evaluation.predictor.family, *(m.get(k) for k in metrics), e.size_bytes / 1e6,
                     e.ms_per_image, e.evaluation.predictor.manifest.get("training", {}).get("seconds")])
    return header, rows


def _table_html(header: list[str], rows: list[list]) -> str:
    metric_cols = range(2, len(header) - 3)
    best = {c: best_of([r[c] for r in rows], header[c]) for c in metric_cols}
    best[len(header) - 3] = best_of([-r[-3] for r in rows], "")  # smallest model
    best[len(header) - 2] = best_of([-r[-2] for r in rows], "")  # fastest
    cells = []
    for i, row in enumerate(rows):
        cells.append([f'<span class="best">{fmt(v)}</span>' if best.get(c) == i else fmt(v)
                      for c, v in enumerate(row)])
    return table(header, cells, raw=True)


def build_comparison_report(entries: list[Entry]) -> str:
    first = entries[0].evaluation
    header, rows = comparison_rows(entries)
    names = [e.name for e in entries]
    metric_names = [h for h in header[2:-3] if h not in {"ece", "mistake_severity", "hamming_loss"}]
    bars = plots.grouped_bars(names, {m: [r[header.index(m)] for r in rows] for m in metric_names},
                              "metrics (higher is better)")
    body = _table_html(header, rows) + '<p class="note">best value per column in bold; time is '\
        "predict_proba on already-decoded images, best of 3 runs, this machine.</p>"
    sections = [section("Side by side", body, "table"), section("Metrics", figure(bars, "metric bars"), "bars")]
    if first.result["task"] == "binary":
        curves = []
        for e in entries:
            y = e.evaluation.predictor.task.encode(e.evaluation.labels)
            curves.append((e.name, y, e.evaluation.proba[:, 1]))
        sections.append(section("ROC curves", figure(plots.roc_overlay(curves), "ROC curves"), "roc"))
    per_model = [(e.name, esc(e.evaluation.predictor.path)) for e in entries]
    sections.append(section("Bundles", table(["model", "bundle"], per_model, raw=True), "bundles"))
    subtitle = (f"{first.result['task']} · {first.result['n']} images · split {first.split} of {first.data_name} · "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    return page("foveal comparison", subtitle, sections)


def write_comparison_report(entries: list[Entry], path: str | Path) -> Path:
    return atomic_write_text(Path(path), build_comparison_report(entries))
