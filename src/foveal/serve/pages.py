"""The web page, the recent-feedback page, their assets (package data, no CDN) and the API docs page."""

from __future__ import annotations

import html
import json
from importlib import resources

from fastapi import APIRouter, Request, Response

from foveal.serve.errors import ApiError

router = APIRouter(include_in_schema=False)
ASSETS = {"app.js": "text/javascript", "feedback.js": "text/javascript", "style.css": "text/css",
          "icon.svg": "image/svg+xml"}


def asset(name: str, package: str = "foveal.serve") -> bytes:
    return resources.files(package).joinpath("page", name).read_bytes()


def static_asset(name: str, assets: dict[str, str], package: str = "foveal.serve", max_age: int = 300) -> Response:
    """One of a page's fixed assets (package data); any other name is a 404 — nothing else on disk is reachable."""
    if name not in assets:
        raise ApiError(404, "not_found", f"no asset {name!r}")
    return Response(asset(name, package), media_type=assets[name], headers={"Cache-Control": f"max-age={max_age}"})


@router.get("/")
async def index() -> Response:
    return Response(asset("index.html"), media_type="text/html; charset=utf-8")


@router.get("/feedback")
async def feedback_page() -> Response:
    return Response(asset("feedback.html"), media_type="text/html; charset=utf-8")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    return static_asset(name, ASSETS)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(asset("icon.svg"), media_type="image/svg+xml")


@router.get("/docs")
async def docs(request: Request) -> Response:
    return Response(render_docs(request.app.openapi()), media_type="text/html; charset=utf-8")


def render_docs(spec: dict) -> str:
    """The OpenAPI description as one static page (works offline and under the CSP: no scripts)."""
    info = spec.get("info", {})
    parts = [f"<h1>{html.escape(info.get('title', 'API'))} {html.escape(str(info.get('version', '')))}</h1>",
             f"<p>{html.escape(info.get('description', ''))}</p>",
             '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI '
             f"{html.escape(spec.get('openapi', ''))}) · <a href=\"/\">the page</a></p>"]
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            parts.append(_operation(path, method, op))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>foveal API</title>'
            '<link rel="stylesheet" href="/static/style.css"></head><body class="docs">'
            + "".join(parts) + "</body></html>")


def _operation(path: str, method: str, op: dict) -> str:
    out = [f'<section class="op"><h2><span class="method">{method.upper()}</span> <code>{html.escape(path)}</code></h2>',
           f"<p>{html.escape(op.get('summary', ''))}</p>"]
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>")
        for p in params:
            kind = p.get("schema", {}).get("type") or "any"
            out.append(f"<tr><td><code>{html.escape(p['name'])}</code>{' (required)' if p.get('required') else ''}"
                       f"</td><td>{html.escape(p.get('in', ''))}</td><td>{html.escape(str(kind))}</td>"
                       f"<td>{html.escape(p.get('description', ''))}</td></tr>")
        out.append("</table>")
    body = op.get("requestBody", {}).get("content", {})
    if body:
        out.append(f"<p>Body: {html.escape(', '.join(body))}</p>")
    for status, response in op.get("responses", {}).items():
        example = next(iter(response.get("content", {}).values()), {}).get("example")
        shown = f"<pre>{html.escape(json.dumps(example))}</pre>" if example is not None else ""
        out.append(f"<p><b>{html.escape(str(status))}</b> {html.escape(response.get('description', ''))}</p>{shown}")
    return "".join(out) + "</section>"
