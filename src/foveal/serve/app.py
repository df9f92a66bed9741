"""The FastAPI application: routes, error bodies, middleware, and the models' life cycle."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from foveal.serve.errors import ApiError, from_status
from foveal.serve.metrics import ServeMetrics
from foveal.serve.registry import ModelRegistry, ServedModel
from foveal.serve.settings import ServeSettings

DESCRIPTION = ("Image classification with foveal bundles. Send images to `POST /v1/models/{name}/predict` "
               "(multipart files or one raw image body); every refusal answers with "
               '`{"error": {"status", "code", "message", "fix"}}`.')


def create_app(models: list[ServedModel], settings: ServeSettings, feedback=None) -> FastAPI:
    """An ASGI app serving ``models`` (see :func:`foveal.serve.registry.load_models`).

    ``feedback`` is a :class:`foveal.serve.feedback.FeedbackStore`, or None to turn feedback off.
    """
    import foveal
    from foveal.serve import api, feedback_api, pages
    from foveal.serve.limits import ApiKeyAuth, BodyLimit, RateLimit
    from foveal.serve.middleware import RequestMetrics, SecurityHeaders

    settings.check()
    metrics = ServeMetrics()
    registry = ModelRegistry(models, settings, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.decode_pool = ThreadPoolExecutor(settings.decode_workers, thread_name_prefix="foveal-decode")
        try:
            await registry.start()
            yield
        finally:
            await registry.stop()
            app.state.decode_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="foveal", version=foveal.__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.registry, app.state.settings, app.state.metrics = registry, settings, metrics
    app.state.feedback = feedback
    for router in (api.router, feedback_api.router, pages.router):
        app.include_router(router)
    _add_error_handlers(app)
    # added innermost first: requests pass SecurityHeaders → RequestMetrics → RateLimit → ApiKeyAuth → BodyLimit
    app.add_middleware(BodyLimit, max_body=settings.max_body)
    app.add_middleware(ApiKeyAuth, digests=settings.api_key_digests)
    app.add_middleware(RateLimit, rate=settings.rate, burst=settings.burst)
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.router.routes)
    app.add_middleware(SecurityHeaders)
    return app


def _error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def _add_error_handlers(app: FastAPI) -> None:
    from foveal.serve.middleware import SECURITY_HEADERS

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError):
        return _error_response(err)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException):
        return _error_response(from_status(err.status_code, str(err.detail)))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in err.errors())
        return _error_response(ApiError(422, "invalid_parameter", problems, "see /docs for the parameters"))

    @app.exception_handler(Exception)
    async def crashed(request: Request, err: Exception):
        # answered by Starlette's outermost layer, so the security headers are set here too
        response = _error_response(ApiError(500, "internal_error", f"the server failed ({type(err).__name__})"))
        for key, value in SECURITY_HEADERS:
            response.headers[key.decode()] = value.decode()
        return response
