"""The HTML skeleton of reports: one self-contained page, plain CSS, images as data: URIs.

A Content-Security-Policy forbids every network fetch, so a report that renders
offline renders anywhere. The only script is inline: after load it records on
``<body>`` how many images decoded (``data-render-check="ok"`` when all did),
which the browser test reads.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")

CSS = """
:root { --ink: #1b2a3a; --muted: #5f6b7a; --line: #dde3ea; --accent: #2f6db3; --bad: #c0392b; --good: #1e8449; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0; background: #f5f7fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
header h1 { font-size: 26px; margin: 8px 0 2px; }
header p { color: var(--muted); margin: 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 18px 0; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; color: var(--muted); }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile .v { font-size: 24px; font-weight: 600; }
.tile .k { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; font-size: 13.5px; margin: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f3f7; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.best { font-weight: 700; color: var(--good); }
figure { margin: 8px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figcaption { color: var(--muted); font-size: 13px; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
.card { width: 128px; border: 1px solid var(--line); border-radius: 8px; padding: 6px; font-size: 12px; }
.card img { width: 112px; height: 112px; object-fit: contain; image-rendering: pixelated; background: #eee;
            display: block; margin: 0 auto 4px; }
.card .path { color: var(--muted); word-break: break-all; font-size: 11px; }
.bad { color: var(--bad); } .good { color: var(--good); }
dl.card-model { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: 13.5px; }
dl.card-model dt { color: var(--muted); }
dl.card-model dd { margin: 0; word-break: break-all; }
code, pre { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f5f7fa; padding: 8px; border-radius: 6px; overflow-x: auto; }
.note { color: var(--muted); font-size: 13px; }
.cols { display: flex; flex-wrap: wrap; gap: 12px 48px; align-items: flex-start; }
"""

RENDER_CHECK = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-rendered", String(ok));
  document.body.setAttribute("data-render-check", ok === images.length && ok > 0 ? "ok" : "broken");
});
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def fmt(value, digits: int = 4) -> str:
    """Numbers for tables: ints as is, floats rounded, missing values as an em dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return esc(value)


def data_uri(png: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(png).decode('ascii')}"


def figure(png: bytes | None, alt: str, caption: str = "") -> str:
    if png is None:
        return ""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{data_uri(png)}" alt="{esc(alt)}">{cap}</figure>'


def table(header: Sequence[str], rows: Iterable[Sequence], raw: bool = False) -> str:
    """An HTML table; cells are formatted with :func:`fmt` unless ``raw`` (already HTML)."""
    head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>" if any(header) else ""
    body = "".join("<tr>" + "".join(f'<td class="num">{c if raw else fmt(c)}</td>' for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def tiles(values: dict) -> str:
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><div class="v">{fmt(v)}</div><div class="k">{esc(k)}</div></div>'
        for k, v in values.items()) + "</div>"


def cols(*blocks: str) -> str:
    """Blocks side by side (wrapping on narrow screens)."""
    return '<div class="cols">' + "".join(f"<div>{b}</div>" for b in blocks if b) + "</div>"


def section(title: str, body: str, anchor: str = "") -> str:
    if not body:
        return ""
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<section{ident}><h2>{esc(title)}</h2>{body}</section>"


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main><header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        + "".join(sections)
        + f"</main><script>{RENDER_CHECK}</script></body></html>\n"
    )
