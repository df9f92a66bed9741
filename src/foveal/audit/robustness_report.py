"""The robustness page: summary, corruption × severity table, mean per corruption, and a strip of
one example image per corruption at each severity."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from foveal.audit.robustness import RobustnessResult
from foveal.evaluation import plots
from foveal.evaluation.report import thumbnail
from foveal.evaluation.report_html import data_uri, esc, figure, page, section, table, tiles
from foveal.files import atomic_write_text

STRIP = 72  # px per example image


def _summary(r: dict) -> str:
    values = {f"clean {r['metric']}": r["clean"], f"mean corrupted {r['metric']}": r["mean_corruption"],
              "relative drop": r["relative_drop"], "images": r["n"]}
    if r.get("mce") is not None:
        values["mCE (vs baseline)"] = r["mce"]
        values["relative mCE"] = r["relative_mce"]
    note = f'<p class="note">TTA views: {esc(", ".join(r["tta"]))}</p>' if r.get("tta") else ""
    if r.get("not_applicable"):
        note += f'<p class="note">not applicable to these images: {esc(", ".join(r["not_applicable"]))}</p>'
    return tiles(values) + note


def _table(r: dict) -> str:
    severities = sorted({s for per in r["corruptions"].values() for s in per}, key=int)
    rows = [(name, *(per[s] for s in severities), r["per_corruption"][name]) for name, per in r["corruptions"].items()]
    if r.get("baseline"):
        rows = [(*row, r["ce"].get(row[0])) for row in rows]
    header = ["corruption", *(f"severity {s}" for s in severities), "mean"] + (["CE"] if r.get("baseline") else [])
    return table(header, [("clean", *([r["clean"]] * len(severities)), r["clean"], *([None] if r.get("baseline") else []))]
                 + rows)


def _strip(result: RobustnessResult) -> str:
    if result.original is None:
        return ""
    original = data_uri(thumbnail(result.original, STRIP))
    rows = []
    for name, images in result.examples.items():
        cells = [f'<img src="{original}" alt="clean" title="clean">'] + [
            f'<img src="{data_uri(thumbnail(img, STRIP))}" alt="{esc(name)} {k + 1}" title="{esc(name)} {k + 1}">'
            for k, img in enumerate(images)]
        rows.append(f"<tr><td>{esc(name)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "<tr><th>corruption</th><th>clean</th>" + "".join(
        f"<th>{k + 1}</th>" for k in range(len(next(iter(result.examples.values()), [])))) + "</tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def build_robustness_page(result: RobustnessResult) -> str:
    r = result.result
    chart = plots.bar_chart(r["per_corruption"], f"mean {r['metric']} per corruption", "", r["metric"])
    subtitle = (f"{Path(r['bundle']).name} · {r['n']} images · split {r['split']} of {r['data']} · "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    sections = [section("Summary", _summary(r), "summary"),
                section("Per corruption and severity", _table(r), "table"),
                section("Mean per corruption", figure(chart, "mean metric per corruption"), "chart"),
                section("Examples", _strip(result), "examples")]
    return page("foveal robustness", subtitle, sections)


def write_robustness_report(result: RobustnessResult, path: str | Path) -> Path:
    return atomic_write_text(Path(path), build_robustness_page(result))
