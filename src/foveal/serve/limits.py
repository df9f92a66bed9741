"""ASGI middleware that refuses before any work: body size (while streaming), rate, API key."""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from foveal.serve.errors import ApiError, send_error

OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/docs", "/openapi.json", "/feedback", "/favicon.ico"})
OPEN_PREFIXES = ("/static/",)
PROBES = frozenset({"/healthz", "/readyz"})


def header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


class BodyLimit:
    """413 for a declared Content-Length over ``max_body`` before reading it; a body that streams
    past the limit (chunked, or lying about its length) is cut off with 413 as the bytes arrive."""

    def __init__(self, app, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await send_error(send, ApiError(400, "bad_content_length", "Content-Length is not a number"))
            if int(declared) > self.max_body:
                return await send_error(send, self._too_large(int(declared)))
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise self._too_large(None)
            return message

        await self.app(scope, limited_receive, send)

    def _too_large(self, size: int | None) -> ApiError:
        given = f" ({size:,} bytes)" if size is not None else ""
        return ApiError(413, "body_too_large", f"the request body is larger than {self.max_body:,} bytes{given}",
                        "send fewer or smaller images per request, or raise --max-body-mb")


class RateLimit:
    """A token bucket per client address: ``rate`` requests per second, bursts up to ``burst``; 429 past it.

    Health probes are never limited. Buckets of idle clients are dropped once the table grows large.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, app, rate: float, burst: int) -> None:
        self.app, self.rate, self.burst = app, rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope["path"] in PROBES:
            return await self.app(scope, receive, send)
        wait = self._take((scope.get("client") or ("unknown",))[0])
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            return await send_error(send, ApiError(
                429, "rate_limited", f"more than {self.rate:g} requests per second from this client",
                f"retry after {retry} s", headers={"Retry-After": retry}))
        await self.app(scope, receive, send)

    def _take(self, client: str) -> float:
        """Spend one token; 0 when allowed, else the seconds until a token is back."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self._buckets) >= self.MAX_CLIENTS and client not in self._buckets:
            self._forget_idle(now)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens - 1.0, now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for client in full:
            del self._buckets[client]


class ApiKeyAuth:
    """Every route but the page shell, its assets, the docs and the probes needs a key when keys are set:
    ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``, compared as SHA-256 digests in constant time."""

    def __init__(self, app, digests: tuple[bytes, ...]) -> None:
        self.app, self.digests = app, digests

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.digests or self._open(scope["path"]):
            return await self.app(scope, receive, send)
        key = presented_key(scope)
        if key is None:
            return await send_error(send, ApiError(401, "missing_api_key", "this server needs an API key",
                                                   "send the header X-API-Key: KEY (or Authorization: Bearer KEY)",
                                                   headers={"WWW-Authenticate": "Bearer"}))
        if not self.accepts(key):
            return await send_error(send, ApiError(401, "invalid_api_key", "the API key is not valid",
                                                   "check the key with the server's operator",
                                                   headers={"WWW-Authenticate": "Bearer"}))
        await self.app(scope, receive, send)

    def accepts(self, key: bytes) -> bool:
        digest = hashlib.sha256(key).digest()
        found = False
        for known in self.digests:  # no early exit: the time does not depend on which key matched
            found |= hmac.compare_digest(digest, known)
        return found

    @staticmethod
    def _open(path: str) -> bool:
        return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def presented_key(scope) -> bytes | None:
    key = header(scope, b"x-api-key")
    if key:
        return key.strip()
    auth = header(scope, b"authorization")
    if auth and auth[:7].lower() == b"bearer ":
        return auth[7:].strip() or None
    return None
