"""An HTML page of the overlays ``foveal explain`` wrote (self-contained: images embedded)."""

from __future__ import annotations

from pathlib import Path

from foveal.evaluation.report_html import data_uri, esc, page, section, table
from foveal.files import atomic_write_text


def write_explain_report(rows: list[dict], out: Path, path: Path, method: str, bundle: str) -> Path:
    cards = []
    for r in rows:
        if "error" in r:
            continue
        src = data_uri((Path(out) / r["overlay"]).read_bytes())
        cards.append(f'<div class="card" style="width:auto"><img style="width:auto;height:auto;max-width:360px" '
                     f'src="{src}" alt="{esc(r["path"])}"><div>{esc(r["target"])} · {r["score"]:.3f}</div>'
                     f'<div class="path">{esc(r["path"])}</div></div>')
    failed = [(r["path"], r["error"]) for r in rows if "error" in r]
    sections = [section("Overlays", '<div class="gallery">' + "".join(cards) + "</div>" if cards else ""),
                section("Not decoded", table(["path", "reason"], failed) if failed else "")]
    return atomic_write_text(Path(path), page(f"foveal explain: {method}", f"{bundle} · {len(cards)} maps", sections))
