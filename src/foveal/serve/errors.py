"""Every refusal the server makes: a status, a stable code, a message and a fix, as JSON."""

from __future__ import annotations

import json


class ApiError(Exception):
    """Raised anywhere in request handling; answered as ``{"error": {...}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, fix: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fix = fix
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        error = {"status": self.status, "code": self.code, "message": self.message}
        if self.fix:
            error["fix"] = self.fix
        return {"error": error, **self.extra}


def error_bytes(err: ApiError) -> bytes:
    return json.dumps(err.body()).encode("utf-8")


async def send_error(send, err: ApiError) -> None:
    """Answer an ASGI request with ``err`` directly (for middleware that runs before the app)."""
    body = error_bytes(err)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items()]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
                422: "unprocessable", 429: "rate_limited", 500: "internal_error", 501: "not_implemented",
                503: "unavailable"}


def from_status(status: int, message: str) -> ApiError:
    """An :class:`ApiError` for a framework-raised HTTP status (404 for an unknown route, 405, …)."""
    return ApiError(status, STATUS_CODES.get(status, "error"), message)
