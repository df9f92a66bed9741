"""Everything a running server is configured with, checked before anything binds or loads."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from foveal.errors import ConfigError

LOCAL_HOST = "127.0.0.1"
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class ServeSettings:
    """Limits and switches of one server (the ``foveal serve`` options)."""

    host: str = LOCAL_HOST
    port: int = 8000
    max_batch: int = 32           # 1: micro-batching off
    max_wait_ms: float = 5.0      # how long a batch waits for requests that are still being decoded
    max_queue: int = 256          # images waiting per model before 503
    timeout: float = 30.0         # seconds an inference may take before the request gets 503
    max_body: int = 16 * 1024 * 1024
    max_files: int = 16
    max_fields: int = 16          # non-file form fields per request
    max_pixels: int | None = None  # None: each bundle's own limit
    max_top_k: int = 100
    rate: float = 50.0            # requests per second per client (0: no limit)
    burst: int = 100
    decode_workers: int = 4
    api_key_digests: tuple[bytes, ...] = field(default=(), repr=False)
    feedback_dir: Path | None = None

    @property
    def auth_required(self) -> bool:
        return bool(self.api_key_digests)

    def check(self) -> "ServeSettings":
        """Raise :class:`ConfigError` for values that cannot work; return self."""
        positive = {"--max-batch": self.max_batch, "--max-queue": self.max_queue, "--max-files": self.max_files,
                    "--max-body-mb": self.max_body, "--decode-workers": self.decode_workers}
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}", f"give a positive {name}")
        if self.max_pixels is not None and self.max_pixels < 1:
            raise ConfigError(f"--max-pixels must be at least 1, got {self.max_pixels}", "e.g. --max-pixels 40000000")
        if self.timeout <= 0 or self.max_wait_ms < 0 or self.rate < 0:
            raise ConfigError("--timeout must be positive and --max-wait-ms, --rate-limit not negative",
                              "e.g. --timeout 30 --max-wait-ms 5 --rate-limit 50")
        if self.rate > 0 and self.burst < 1:
            raise ConfigError(f"--burst must be at least 1, got {self.burst}", "e.g. --burst 100")
        if not 0 < self.port < 65536:
            raise ConfigError(f"--port {self.port} is not a TCP port", "use 1-65535")
        if self.host != LOCAL_HOST and not self.auth_required:
            raise ConfigError(f"--host {self.host} exposes the server beyond this machine without an API key",
                              "give --api-key-file FILE (one key per line), or serve on 127.0.0.1")
        return self


def key_digest(key: str) -> bytes:
    """Keys are kept and compared as SHA-256 digests (fixed length, so the comparison is constant time)."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def read_api_keys(path: Path) -> tuple[bytes, ...]:
    """Digests of the keys in ``path``: one per line, blank lines and ``#`` comments ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the API key file {path} ({err})", "give a readable UTF-8 text file") from None
    keys = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise ConfigError(f"the API key file {path} holds no key", "write one key per line")
    short = [i for i, key in enumerate(keys, 1) if len(key) < MIN_KEY_LENGTH]
    if short:
        raise ConfigError(f"API key {short[0]} in {path} is shorter than {MIN_KEY_LENGTH} characters",
                          "use long random keys, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return tuple(key_digest(key) for key in keys)


def parse_model_specs(specs: list[str]) -> list[tuple[str, Path]]:
    """``BUNDLE`` or ``NAME=BUNDLE`` → (name, path); names are unique and URL-safe."""
    from foveal.bundle import resolve_bundle_path

    out: list[tuple[str, Path]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            path = spec
            resolved = resolve_bundle_path(spec)
            name = resolved.parent.name if resolved.name == "model" else resolved.name
        if not MODEL_NAME.match(name):
            raise ConfigError(f"model name {name!r} is not usable in a URL",
                              "name it with NAME=BUNDLE using letters, digits, '.', '_' or '-'")
        if name in (n for n, _ in out):
            raise ConfigError(f"two models are named {name!r}", "give each bundle its own NAME=BUNDLE")
        out.append((name, Path(path)))
    return out
