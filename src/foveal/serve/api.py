"""The versioned JSON API: models, predictions, probes and metrics."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, Query, Request, Response

from foveal.bundle.predictor import FileResult
from foveal.files import to_json
from foveal.serve.errors import ApiError
from foveal.serve.heatmap import check_explainable, explain_overlays
from foveal.serve.images import decode_upload
from foveal.serve.uploads import read_uploads

router = APIRouter()

IMAGE_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "one file part per image"}}}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
ROW_EXAMPLE = {"path": "cat.png", "prediction": "cat", "scores": {"cat": 0.93, "dog": 0.07},
               "top_k": [{"label": "cat", "score": 0.93}], "error": None}
ERRORS = {s: {"description": d, "content": {"application/json": {"example": {"error": {
    "status": s, "code": c, "message": "…", "fix": "…"}}}}} for s, c, d in (
    (400, "malformed_multipart", "malformed multipart body"), (401, "missing_api_key", "missing or wrong API key"),
    (404, "unknown_model", "no such model"), (413, "body_too_large", "body, file count or pixel limit exceeded"),
    (415, "not_an_image", "not an image"), (422, "undecodable_image", "empty, truncated or corrupt image"),
    (429, "rate_limited", "too many requests from this client"),
    (501, "explain_unavailable", "explanations not available"),
    (503, "inference_timeout", "inference took longer than --timeout, or the queue is full"))}


def json_response(payload, status: int = 200) -> Response:
    return Response(to_json(payload, indent=None), status_code=status, media_type="application/json")


@router.get("/healthz", tags=["probes"], summary="Alive (answers at once, even while models warm up)")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", tags=["probes"], summary="Ready: every bundle loaded and warmed up (else 503)")
async def readyz(request: Request) -> Response:
    registry = request.app.state.registry
    models = {name: model.warm for name, model in registry.models.items()}
    if not registry.ready:
        raise ApiError(503, "not_ready", "models are still warming up", "retry in a moment",
                       headers={"Retry-After": "1"}, extra={"models": models})
    return json_response({"status": "ready", "models": models})


@router.get("/metrics", tags=["probes"], summary="Prometheus metrics (text exposition format)")
async def metrics(request: Request) -> Response:
    body, media_type = request.app.state.metrics.render()
    return Response(body, media_type=media_type)


@router.get("/v1/models", tags=["models"], summary="The served models: task, classes, metrics, lineage")
async def list_models(request: Request) -> Response:
    state = request.app.state
    s = state.settings
    return json_response({"models": [m.describe() for m in state.registry.models.values()],
                          "feedback": state.feedback is not None,
                          "limits": {"max_body": s.max_body, "max_files": s.max_files, "max_top_k": s.max_top_k,
                                     "timeout": s.timeout}})


@router.post("/v1/models/{name}/predict", tags=["models"], openapi_extra={"requestBody": IMAGE_BODY},
             summary="Predict one or many images (multipart files, or one raw image body)",
             responses={200: {"description": "one row per image, as `foveal predict --format json`",
                              "content": {"application/json": {"example": {"model": "pets",
                                                                           "results": [ROW_EXAMPLE]}}}},
                        **ERRORS})
async def predict(request: Request, name: str,
                  top_k: int = Query(1, ge=1, description="classes to return per image"),
                  explain: str | None = Query(None, description="add a heat map (base64 PNG) per image: "
                                              "`default` or a method name of `foveal explain`")) -> Response:
    state = request.app.state
    model = state.registry.get(name)
    if explain is not None:
        check_explainable(model)
    uploads = await read_uploads(request, state.settings.max_files, state.settings.max_fields)
    images = await decode_all(request, model, [u.data for u in uploads])
    ok = [i for i, image in enumerate(images) if isinstance(image, np.ndarray)]
    state.metrics.images.labels(name, "rejected").inc(len(uploads) - len(ok))
    rows = [{} if i in ok else FileResult(u.name, error=_row_error(images[i])).to_json()
            for i, u in enumerate(uploads)]  # refused uploads get their row now, the others below
    if not ok:  # nothing to predict: answer with the first refusal's status
        first = images[0]
        raise ApiError(first.status, first.code, first.message, first.fix, extra={"results": rows})
    batch = [images[i] for i in ok]
    proba = await model.batcher.predict(batch, state.settings.timeout)
    k = min(top_k, state.settings.max_top_k)
    for i, prediction in zip(ok, model.predictor.task.decode(np.stack(proba), top_k=k)):
        rows[i] = FileResult(uploads[i].name, prediction=prediction).to_json()
    state.metrics.images.labels(name, "predicted").inc(len(ok))
    if explain is not None:
        overlays = await model.batcher.run_exclusive(
            lambda: explain_overlays(model.predictor, np.stack(batch), explain), state.settings.timeout)
        for i, overlay in zip(ok, overlays):
            rows[i]["heatmap"] = overlay
    return json_response({"model": name, "results": rows})


async def decode_all(request: Request, model, blobs: list[bytes]) -> list:
    """Decode off the event loop; each item is the model input or the :class:`ApiError` that refused it."""
    state = request.app.state
    loop = asyncio.get_running_loop()
    prep, limit = model.predictor.preprocessing, state.settings.max_pixels

    def work(data: bytes):
        try:
            return decode_upload(data, prep, limit)
        except ApiError as err:
            return err

    with model.batcher.arriving(len(blobs)):
        return list(await asyncio.gather(*(loop.run_in_executor(state.decode_pool, work, b) for b in blobs)))


def _row_error(err: ApiError) -> str:
    return f"{err.message} — {err.fix}" if err.fix else err.message
