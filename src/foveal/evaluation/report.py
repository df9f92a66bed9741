"""The evaluation report: one self-contained HTML page built from an :class:`Evaluation`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from foveal.evaluation import plots
from foveal.evaluation.metrics import headline
from foveal.evaluation.report_html import cols, data_uri, esc, figure, fmt, page, section, table, tiles
from foveal.evaluation.run import Evaluation
from foveal.files import atomic_write_text

GALLERY = 12
THUMB = 112


def write_report(ev: Evaluation, path: str | Path, run_dir: str | Path | None = None) -> Path:
    """Write the report for ``ev`` to ``path``; ``run_dir`` (or the bundle's run folder) adds learning curves."""
    return atomic_write_text(Path(path), build_report(ev, run_dir))


def build_report(ev: Evaluation, run_dir: str | Path | None = None) -> str:
    from foveal.evaluation.domains import domain_table_html

    r = ev.result
    name = _bundle_name(ev.predictor)
    subtitle = (f"{name} · {r['task']} · {r['n']} images · split {ev.split} of {ev.data_name} · "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    y = ev.predictor.task.encode(ev.labels)
    sections = [
        section("Summary", tiles({**headline(r), "images": r["n"]}), "summary"),
        section("Dataset", _dataset(ev), "dataset"),
        section("Metrics", cols("<h3>All metrics</h3>" + table(["metric", "value"], r["metrics"].items()),
                                _per_class(r)), "metrics"),
        section("Per domain", domain_table_html(r), "domains"),
        section("Confusion matrix", _confusion(r), "confusion"),
        section("ROC and precision-recall curves", _curves(ev, y), "curves"),
        section("Decision threshold", _thresholds(ev, y), "thresholds"),
        section("Calibration", _calibration(r), "calibration"),
        section("Hierarchy", _hierarchy(r), "hierarchy"),
        section("Learning curves", _learning(ev, run_dir), "learning"),
        section("Gallery", _gallery(ev), "gallery"),
        section("Model card", _model_card(ev.predictor), "model-card"),
        section("Skipped files", _skipped(ev), "skipped"),
    ]
    return page(f"foveal report: {name}", subtitle, sections)


def _bundle_name(predictor) -> str:
    path = Path(predictor.path)
    return path.parent.name if path.name == "model" else path.name


def _dataset(ev: Evaluation) -> str:
    prep = ev.predictor.preprocessing
    h, w = prep.size
    facts = [("data", ev.data_name), ("split", ev.split), ("images evaluated", len(ev.loaded.kept)),
             ("images skipped (undecodable)", len(ev.loaded.skipped)),
             ("model input", f"{h}×{w}×{prep.channels}"), ("classes", ev.predictor.task.n_classes)]
    counts: dict[str, int] = {c: 0 for c in ev.predictor.task.classes}
    for label in ev.labels:
        for c in label if isinstance(label, list) else [label]:
            counts[c] = counts.get(c, 0) + 1
    n = max(1, len(ev.labels))
    dist = table(["class", "images", "share"], [(c, k, k / n) for c, k in counts.items()])
    return cols(table(["", ""], facts), "<h3>Class distribution (true labels)</h3>" + dist)


def _per_class(r: dict) -> str:
    if "per_class" in r:
        rows = [(c, v["precision"], v["recall"], v["f1"], v["support"]) for c, v in r["per_class"].items()]
        return "<h3>Per class</h3>" + table(["class", "precision", "recall", "F1", "support"], rows)
    rows = [(c, v["precision"], v["recall"], v["f1"], v["ap"], v["support"]) for c, v in r["per_label"].items()]
    return "<h3>Per label</h3>" + table(["label", "precision", "recall", "F1", "AP", "support"], rows)


def _confusion(r: dict) -> str:
    if "confusion_matrix" not in r:
        return ""
    png = plots.confusion_heatmap(r["classes"], r["confusion_matrix"], r["confusion_matrix_normalized"])
    body = figure(png, "confusion matrix heat map", "rows: true class, columns: predicted; colour: share of the "
                  "true class; numbers: counts")
    if r.get("most_confused"):
        rows = [(m["true"], m["predicted"], m["count"], m["rate"]) for m in r["most_confused"]]
        body += "<h3>Most confused pairs</h3>" + table(["true", "predicted as", "images", "share of true"], rows)
    return body


def _curves(ev: Evaluation, y: np.ndarray) -> str:
    r = ev.result
    marks = {}
    t = r.get("thresholds", {})
    if "youden" in t:
        marks[f"Youden J (t={t['youden']['threshold']:.3f})"] = t["youden"]
    if "best_f1" in t:
        marks[f"best F1 (t={t['best_f1']['threshold']:.3f})"] = t["best_f1"]
    png = plots.roc_pr_curves(r["task"], r["classes"], y, ev.proba, marks)
    caption = {"binary": f"positive class: {r['classes'][1]}"}.get(r["task"], "one-vs-rest per class")
    return figure(png, "ROC and precision-recall curves", caption)


def _thresholds(ev: Evaluation, y: np.ndarray) -> str:
    t = ev.result.get("thresholds")
    if not t or "best_f1" not in t:
        return ""
    chosen = {"best F1": t["best_f1"]["threshold"], "Youden": t["youden"]["threshold"]}
    current = ev.result.get("decision_threshold")
    if current is not None:
        chosen["saved"] = current
    rows = [(g["threshold"], g["precision"], g["recall"], g["f1"], g["positive_rate"]) for g in t["grid"]]
    note = (f'<p class="note">best F1 {t["best_f1"]["f1"]:.4f} at threshold {t["best_f1"]["threshold"]:.4f}; '
            f'Youden J {t["youden"]["j"]:.4f} at {t["youden"]["threshold"]:.4f}. '
            "Save one with <code>foveal eval … --save-threshold best-f1 --out DIR</code> "
            "(choose it on validation data).</p>")
    return note + cols(figure(plots.threshold_plot(y, ev.proba[:, 1], chosen), "threshold analysis"),
                       table(["threshold", "precision", "recall", "F1", "predicted positive"], rows))


def _calibration(r: dict) -> str:
    if "reliability" not in r:
        return ""
    m = r["metrics"]
    what = ("each label probability against how often the label is present" if r["task"] == "multilabel"
            else "top-class confidence against accuracy")
    body = cols(figure(plots.reliability_diagram(r["reliability"], m["ece"]), "reliability diagram",
                       f"{what}; 15 equal-width bins"),
                table(["metric", "value"], [("ECE", m["ece"]), ("Brier score", m["brier"]), ("log loss", m["log_loss"])]))
    return body + '<p class="note">Fit temperature scaling with <code>foveal calibrate BUNDLE DATA --out DIR</code>.</p>'


def _hierarchy(r: dict) -> str:
    if r["task"] != "hierarchical":
        return ""
    m = r["metrics"]
    levels = {k.split("_")[1]: v for k, v in m.items() if k.startswith("level_") and k.endswith("_accuracy")}
    chart = figure(plots.bar_chart(levels, "accuracy per level", "level", "accuracy"), "accuracy per level")
    keys = ("hierarchical_precision", "hierarchical_recall", "hierarchical_f1", "mistake_severity", "mean_tree_distance")
    tables = table(["metric", "value"], [(k, m[k]) for k in keys])
    counts = r.get("mistake_severity_counts") or {}
    if counts:
        tables += "<h3>Mistakes by tree distance</h3>" + table(["distance", "mistakes"], counts.items())
    return cols(chart, tables)


def _learning(ev: Evaluation, run_dir) -> str:
    folder = Path(run_dir) if run_dir else Path(ev.predictor.path).parent
    csv_path = folder / "metrics.csv"
    if not csv_path.is_file():
        return ""
    drawn = folder / "curves.png"  # the run's own drawing of the same file, when it is not older than it
    fresh = drawn.is_file() and drawn.stat().st_mtime >= csv_path.stat().st_mtime
    png = drawn.read_bytes() if fresh else plots.learning_curves(csv_path)
    return figure(png, "learning curves", str(csv_path.name))


def thumbnail(image: np.ndarray, side: int = THUMB) -> bytes:
    """A PNG of one preprocessed uint8 image, scaled up (pixelated) or down to ``side``."""
    from foveal.thumbnails import scaled_png

    return scaled_png(image, side)


def _cards(ev: Evaluation, picks: list[dict], heat: dict[int, bytes] | None = None) -> str:
    cards = []
    for s in picks:
        src = data_uri(thumbnail(ev.loaded.images[s["row"]]))
        verdict = "good" if s["correct"] else "bad"
        extra = f'<img src="{data_uri(heat[s["row"]])}" alt="heat map">' if heat and s["row"] in heat else ""
        cards.append(f'<div class="card"><img src="{src}" alt="{esc(s["path"])}">{extra}'
                     f'<div>true <b>{esc(s["true"])}</b></div>'
                     f'<div class="{verdict}">pred <b>{esc(s["predicted"])}</b> {s["confidence"]:.3f}</div>'
                     f'<div class="path">{esc(s["path"])}</div></div>')
    return '<div class="gallery">' + "".join(cards) + "</div>" if cards else '<p class="note">none</p>'


def _gallery(ev: Evaluation) -> str:
    samples = ev.samples()
    wrong = sorted((s for s in samples if not s["correct"]), key=lambda s: -s["confidence"])[:GALLERY]
    right = sorted((s for s in samples if s["correct"]), key=lambda s: s["confidence"])[:GALLERY]
    what = "the probability of the predicted class" if ev.result["task"] != "multilabel" else \
        "the confidence of the weakest (or most confidently wrong) label decision"
    return (f'<p class="note">Number after the prediction: {what}.</p>'
            "<h3>Most confident mistakes</h3>" + _heat_note(ev, wrong) + _cards(ev, wrong, _heat_maps(ev, wrong))
            + "<h3>Least confident correct predictions</h3>" + _cards(ev, right))


def _heat_maps(ev: Evaluation, picks: list[dict]) -> dict[int, bytes]:
    """Deep bundles: a Grad-CAM thumbnail of each picked image for its predicted class (``foveal.explain``)."""
    if ev.predictor.family != "deep" or not picks:
        return {}
    from foveal.explain import explain
    from foveal.explain.overlay import heat_thumbnail

    rows = [s["row"] for s in picks]
    try:
        found = explain(ev.predictor, ev.loaded.images[rows], "gradcam")
    except Exception as err:  # noqa: BLE001 - a model without a usable target layer still gets its report
        from foveal.errors import warn

        warn(f"report: no heat maps ({type(err).__name__}: {err})")
        return {}
    first: dict[int, bytes] = {}
    for e in found:
        row = rows[e.index]
        if row not in first:
            first[row] = heat_thumbnail(ev.loaded.images[row], e.map)
    return first


def _heat_note(ev: Evaluation, picks: list[dict]) -> str:
    if ev.predictor.family != "deep" or not picks:
        return ""
    return '<p class="note">Beside each image: Grad-CAM for the predicted class (where the model looked).</p>'


def _model_card(predictor) -> str:
    m = predictor.manifest
    lineage = m.get("lineage", {})
    training = m.get("training", {})
    classes = predictor.task.classes
    facts = [
        ("bundle", str(predictor.path)), ("family", m.get("family")), ("runtime", m.get("runtime")), ("task", predictor.task.type),
        ("classes", ", ".join(classes[:30]) + (" …" if len(classes) > 30 else "")),
        ("model", json.dumps(m.get("model", {}), sort_keys=True)),
        ("preprocessing", json.dumps(m.get("preprocessing", {}), sort_keys=True)),
        ("trained on", f"{training.get('data', '?')} ({training.get('n_train', '?')} train / "
                       f"{training.get('n_val', '?')} val images, {training.get('seconds', '?')} s)"),
        ("validation metrics", ", ".join(f"{k} {fmt(v)}" for k, v in list(m.get("metrics", {}).get("val", {}).items())[:8])),
        ("calibration", json.dumps(m["calibration"]) if m.get("calibration") else "none"),
        ("decision threshold", m["task"].get("decision_threshold", "argmax")),
        ("parent bundle", json.dumps(lineage.get("parent")) if lineage.get("parent") else "none (trained)"),
        ("data fingerprint", lineage.get("data_fingerprint", "?")),
        ("created", lineage.get("created", "?")),
        ("library versions", ", ".join(f"{k} {v}" for k, v in lineage.get("versions", {}).items())),
    ]
    return '<dl class="card-model">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>"


def _skipped(ev: Evaluation) -> str:
    if not ev.loaded.skipped:
        return ""
    return table(["path", "reason"], [(s["path"], s["reason"]) for s in ev.loaded.skipped[:100]])


def write_training_report(run_dir: Path, bundle: Path, val_ds, val_images, proba=None) -> Path | None:
    """The report a training run writes for its validation split (``report.html`` in the run folder).

    Model-kind agnostic: it loads the saved bundle and scores the already-decoded images,
    reusing the run's validation probabilities when given.
    A failure here never loses the trained bundle; it is reported as a warning instead.
    """
    from foveal.bundle import load_bundle
    from foveal.evaluation.run import evaluation_from_loaded

    if len(val_images.kept) == 0:
        return None
    try:
        ev = evaluation_from_loaded(load_bundle(bundle), val_ds, val_images, "val", val_ds.name, proba)
        return write_report(ev, Path(run_dir) / "report.html", run_dir)
    except Exception as err:  # noqa: BLE001 - the run's bundle is already saved; do not lose the run over a plot
        from foveal.progress import stderr_console

        stderr_console().print(f"[yellow]warning: report.html not written ({type(err).__name__}: {err})[/]")
        return None
