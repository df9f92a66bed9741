"""The HTML pages of `foveal audit` (subgroups and gaps) and `foveal data issues` (a gallery of likely
label errors)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from foveal.evaluation import plots
from foveal.evaluation.report_html import data_uri, esc, figure, fmt, page, section, table, tiles
from foveal.files import atomic_write_text

METRICS = ("accuracy", "recall", "false_positive_rate", "false_negative_rate", "selection_rate", "ece")
GALLERY = 60


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _groups(r: dict) -> str:
    shown = [m for m in METRICS if any(m in row for row in r["groups"].values())]
    rows = []
    for name, row in r["groups"].items():
        cells = []
        for m in shown:
            ci = row.get("ci", {}).get(m)
            cells.append(fmt(row.get(m)) + (f" <span class=\"note\">[{fmt(ci[0])}, {fmt(ci[1])}]</span>" if ci else ""))
        flag = ' <span class="bad">too small</span>' if row["too_small"] else ""
        rows.append((esc(name) + flag, fmt(row["n"]), *cells))
    return table([r["by"], "n", *shown], rows, raw=True) + \
        '<p class="note">In brackets: 95% bootstrap intervals. Subgroups under the minimum size are not ranked.</p>'


def _gaps(r: dict) -> str:
    rows = [(k, v["difference"], " – ".join(fmt(x) for x in v.get("difference_ci", [])) or "—", v["ratio"],
             v["worst_group"]) for k, v in r["gaps"].items() if isinstance(v, dict)]
    parity = [(k, v) for k, v in r["gaps"].items() if not isinstance(v, dict)]
    body = table(["metric", "largest gap", "95% interval", "smallest ratio", "worst subgroup"], rows)
    return body + (table(["binary-task criterion", "difference"], parity) if parity else "")


def write_audit_report(r: dict, path: str | Path) -> Path:
    acc = {g: row["accuracy"] for g, row in r["groups"].items() if row.get("accuracy") is not None}
    gap = r["gaps"].get("accuracy", {})
    summary = {"images": r["n"], "subgroups": len(r["groups"]), "largest accuracy gap": gap.get("difference"),
               "worst subgroup": gap.get("worst_group", "—")}
    sections = [section("Summary", tiles(summary), "summary"), section("Subgroups", _groups(r), "groups"),
                section("Gaps", _gaps(r), "gaps"),
                section("Accuracy per subgroup", figure(plots.bar_chart(acc, f"accuracy by {r['by']}"),
                                                        "accuracy per subgroup"), "chart")]
    subtitle = f"{Path(r['bundle']).name} · by {r['by']} · split {r['split']} of {r['data']} · {_stamp()}"
    return atomic_write_text(Path(path), page("foveal audit", subtitle, sections))


def write_issues_report(found, images: np.ndarray | None, path: str | Path) -> Path:
    """``found``: :class:`~foveal.audit.label_issues.LabelIssues`; ``images``: the first flagged ones, decoded."""
    from foveal.evaluation.report import thumbnail

    cards = []
    for k, issue in enumerate(found.issues[:GALLERY]):
        img = f'<img src="{data_uri(thumbnail(images[k]))}" alt="{esc(issue["path"])}">' if images is not None \
            and k < len(images) else ""
        cards.append(f'<div class="card">{img}<div>given <b class="bad">{esc(issue["given"])}</b></div>'
                     f'<div>suggested <b class="good">{esc(issue["suggested"])}</b></div>'
                     f'<div>self-confidence {issue["self_confidence"]:.3f}</div>'
                     f'<div class="path">{esc(issue["path"])}</div></div>')
    summary = {"images checked": found.n_checked, "likely label errors": len(found.issues),
               "share": len(found.issues) / max(found.n_checked, 1)}
    sections = [section("Summary", tiles(summary), "summary"),
                section(f"Most likely label errors (first {GALLERY})",
                        '<div class="gallery">' + "".join(cards) + "</div>" if cards else '<p class="note">none</p>',
                        "gallery")]
    return atomic_write_text(Path(path), page("foveal data issues", f"{found.ds.name} · {_stamp()}", sections))
