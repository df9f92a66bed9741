"""Feedback endpoints: store a judgement of a prediction, list recent ones, show a stored image."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from foveal.serve.api import IMAGE_BODY, decode_all, json_response
from foveal.serve.errors import ApiError
from foveal.serve.images import image_extension
from foveal.serve.uploads import read_uploads

router = APIRouter(tags=["feedback"])
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "bmp": "image/bmp", "gif": "image/gif",
               "tif": "image/tiff", "webp": "image/webp", "ppm": "image/x-portable-pixmap"}


def _store(request: Request):
    store = request.app.state.feedback
    if store is None:
        raise ApiError(404, "feedback_off", "this server does not collect feedback",
                       "start it with --feedback-dir DIR")
    return store


def checked_label(task, labels: list[str]):
    """The corrected label(s) as the task spells them; unknown classes are refused."""
    unknown = [label for label in labels if label not in task.classes]
    if unknown:
        raise ApiError(422, "unknown_label", f"the model has no class {unknown[0]!r}",
                       "pick one of the model's classes (GET /v1/models)")
    if task.type == "multilabel":
        return sorted(set(labels))
    if len(labels) != 1:
        raise ApiError(422, "one_label", f"a {task.type} model takes exactly one label, got {len(labels)}",
                       "send one label=")
    return labels[0]


@router.post("/v1/feedback", status_code=201, openapi_extra={"requestBody": IMAGE_BODY},
             summary="Judge a prediction: no label means it was right, label= gives the correct class(es)")
async def add_feedback(request: Request, model: str = Query(..., description="model name"),
                       label: list[str] = Query([], description="correct class (repeat for multi-label)")) -> Response:
    state = request.app.state
    store = _store(request)
    served = state.registry.get(model)
    task = served.predictor.task
    corrected = checked_label(task, label) if label else None
    uploads = await read_uploads(request, 1, state.settings.max_fields)
    image = (await decode_all(request, served, [uploads[0].data]))[0]
    if isinstance(image, ApiError):
        raise image
    proba = await served.batcher.predict([image], state.settings.timeout)
    predicted = task.decode(np.stack(proba))[0].label
    data = uploads[0].data
    row = await run_in_threadpool(
        store.add, data=data, extension=image_extension(data), model=model, bundle=str(served.predictor.path),
        task=task.type, predicted=predicted, label=predicted if corrected is None else corrected)
    return json_response(_public(row), status=201)


@router.get("/v1/feedback", summary="Recent feedback, newest first")
async def list_feedback(request: Request, limit: int = Query(50, ge=1, le=1000),
                        model: str | None = Query(None)) -> Response:
    rows = await run_in_threadpool(_store(request).rows, limit, model)
    return json_response({"feedback": [_public(r) for r in rows]})


@router.get("/v1/feedback/images/{sha256}", summary="The stored copy of a judged image")
async def feedback_image(request: Request, sha256: str) -> Response:
    path = await run_in_threadpool(_store(request).image_path, sha256)
    if path is None:
        raise ApiError(404, "unknown_image", "no stored feedback image with that SHA-256")
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream"))


def _public(row: dict) -> dict:
    """A row as the API shows it: no server paths, a URL for the image."""
    hidden = {"bundle", "image_file"}
    return {**{k: v for k, v in row.items() if k not in hidden},
            "image_url": f"/v1/feedback/images/{row['image_sha256']}"}
