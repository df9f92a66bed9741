"""The labelling page of ``foveal al label``: a small FastAPI app over one pool, on the server stack of
``foveal serve`` (its security headers, body limit and error bodies).

Routes: ``/`` (the page), ``/static/{asset}``, ``/healthz``, ``/readyz``, ``GET /api/state`` (classes,
their keys, the queue, counts), ``GET /api/image/{id}``, ``POST /api/label`` ``{"id", "label"}``,
``POST /api/skip`` ``{"id"}``, ``POST /api/undo`` (the labeller's latest label or skip). The labeller's
name is the server's ``--user``, never taken from the request. Changes need ``Content-Type:
application/json`` (so another site cannot post a plain form to the page's server), and only the
``127.0.0.1`` / ``localhost`` host names are answered (no DNS rebinding).
"""

from __future__ import annotations

import string
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from foveal.al.pool import Pool
from foveal.errors import DataError
from foveal.serve.errors import ApiError

ASSETS = {"label.js": "text/javascript", "label.css": "text/css"}
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
         "webp": "image/webp", "tif": "image/tiff", "tiff": "image/tiff"}
RESERVED = ("s", "u")  # skip, undo
MAX_BODY = 64 * 1024
HOSTS = ["127.0.0.1", "localhost"]


def class_keys(classes: list[str]) -> dict[str, str]:
    """Keyboard key per class: the name itself when every name is one distinct character other than
    s and u (digits, letters); else 1-9, 0, then the letters but s and u. Classes past those get none."""
    single = [c.lower() for c in classes]
    if all(len(c) == 1 for c in single) and len(set(single)) == len(single) and not set(single) & set(RESERVED):
        return {c: c.lower() for c in classes}
    keys = list("1234567890") + [k for k in string.ascii_lowercase if k not in RESERVED]
    return dict(zip(classes, keys))


def asset(name: str) -> bytes:
    from foveal.serve.pages import asset as page_asset

    return page_asset(name, "foveal.al")


def create_label_app(pool: Pool, user: str):
    """An ASGI app for labelling ``pool``'s current queue as ``user``."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    import foveal
    from foveal.serve.limits import BodyLimit
    from foveal.serve.middleware import SecurityHeaders

    app = FastAPI(title="foveal al label", version=foveal.__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.pool, app.state.user = pool, user
    app.include_router(_router(pool, user))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError):
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    app.add_middleware(BodyLimit, max_body=MAX_BODY)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=HOSTS)
    app.add_middleware(SecurityHeaders)
    return app


def _router(pool: Pool, user: str):
    router = APIRouter()
    keys = class_keys(pool.classes)

    @router.get("/")
    async def page() -> Response:
        return Response(asset("label.html"), media_type="text/html; charset=utf-8")

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        from foveal.serve.pages import static_asset

        return static_asset(name, ASSETS, "foveal.al", max_age=60)

    @router.get("/healthz")
    @router.get("/readyz")
    async def health() -> dict:
        return {"status": "ok"}

    @router.get("/api/state")
    def state() -> dict:
        return state_body(pool, user, keys)

    @router.get("/api/image/{item_id}")
    def image(item_id: int) -> Response:
        item = pool.item(item_id)
        if item is None:
            raise ApiError(404, "not_found", f"no pool item {item_id}")
        path = pool.image_file(item["path"])
        media = MEDIA.get(Path(item["path"]).suffix.lower().lstrip("."), "application/octet-stream")
        return Response(path.read_bytes(), media_type=media)

    @router.post("/api/label")
    async def label(request: Request) -> dict:
        body = await json_body(request)
        return change(pool, user, body.get("id"), "label", body.get("label"), keys)

    @router.post("/api/skip")
    async def skip(request: Request) -> dict:
        body = await json_body(request)
        return change(pool, user, body.get("id"), "skip", None, keys)

    @router.post("/api/undo")
    async def undo(request: Request) -> dict:
        await json_body(request)
        item = pool.undo(user)
        return {"undone": None if item is None else item_json(item), **state_body(pool, user, keys)}

    return router


async def json_body(request) -> dict:
    import json

    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "changes are sent as JSON", "send Content-Type: application/json")
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "bad_json", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return body


def item_json(item: dict) -> dict:
    return {"id": item["id"], "url": f"/api/image/{item['id']}", "status": item["status"], "label": item["label"]}


def state_body(pool: Pool, user: str, keys: dict[str, str]) -> dict:
    return {"classes": [{"name": c, "key": keys.get(c)} for c in pool.classes], "user": user,
            "round": pool.current_round(), "queue": [item_json(i) for i in pool.queue()],
            "queued": pool.queue_size(), "counts": pool.counts()}


def change(pool: Pool, user: str, item_id, action: str, label, keys: dict[str, str]) -> dict:
    """Label or skip one queued item."""
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        raise ApiError(422, "invalid_parameter", "id must be an integer")
    item = pool.item(item_id)
    if item is None or item["queue_round"] != pool.current_round() or item["status"] != "unlabelled":
        raise ApiError(409, "not_queued", f"item {item_id} is not waiting in this round's queue", "reload the page")
    try:
        changed = pool.set_label(item_id, label if isinstance(label, str) else None, user, action)
    except DataError as err:
        raise ApiError(422, "invalid_label", err.what, err.fix) from None
    return {"item": item_json(changed), **state_body(pool, user, keys)}
