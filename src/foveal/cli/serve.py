"""`foveal serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import err_console
from foveal.errors import ConfigError


def _require_serve_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ConfigError(f"serving needs {err.name}, which is not installed",
                          "pip install 'foveal[serve]'") from None


def serve_command(
    bundles: list[str] = typer.Argument(..., help="Bundles to serve: BUNDLE or NAME=BUNDLE (a model/ folder or "
                                                  "its run folder); the name is the URL's {name}."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but 127.0.0.1 needs "
                                                         "--api-key-file."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    api_key_file: Optional[Path] = typer.Option(None, "--api-key-file", help="Keys clients must send "
                                                "(X-API-Key or Authorization: Bearer), one per line."),
    max_batch: int = typer.Option(32, "--max-batch", help="Images per forward pass (1: micro-batching off)."),
    max_wait_ms: float = typer.Option(5.0, "--max-wait-ms", help="How long a batch waits for requests that are "
                                                                  "still being decoded."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds an inference may take; later answers 503."),
    max_body_mb: float = typer.Option(16.0, "--max-body-mb", help="Largest request body in MB (413 past it)."),
    max_files: int = typer.Option(16, "--max-files", help="Images per request (413 past it)."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest image in pixels, judged from the "
                                             "header (default: each bundle's limit)."),
    max_queue: int = typer.Option(256, "--max-queue", help="Images waiting per model before 503."),
    rate_limit: float = typer.Option(50.0, "--rate-limit", help="Requests per second per client (0: off; 429 "
                                                                 "past it)."),
    burst: int = typer.Option(100, "--burst", help="Requests a client may send at once before --rate-limit "
                                                    "applies."),
    feedback_dir: Optional[Path] = typer.Option(None, "--feedback-dir", help="Collect feedback from the page "
                                                "here (SQLite + content-hash-named image copies)."),
    decode_workers: int = typer.Option(4, "--decode-workers", help="Threads that decode uploads."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn's log level (info logs every "
                                                                  "request)."),
) -> None:
    """Serve bundles over HTTP: a versioned JSON API (/docs), a web page (/), health, metrics, feedback."""
    _require_serve_extra()
    from foveal.serve.settings import ServeSettings, parse_model_specs, read_api_keys

    settings = ServeSettings(
        host=host, port=port, max_batch=max_batch, max_wait_ms=max_wait_ms, max_queue=max_queue,
        timeout=timeout, max_body=int(max_body_mb * 1024 * 1024), max_files=max_files, max_pixels=max_pixels,
        rate=rate_limit, burst=burst, decode_workers=decode_workers,
        api_key_digests=read_api_keys(api_key_file) if api_key_file else (), feedback_dir=feedback_dir).check()
    specs = parse_model_specs(bundles)
    run_server(specs, settings, log_level)


def run_server(specs: list[tuple[str, Path]], settings, log_level: str = "warning") -> None:
    """Load the bundles (errors before binding), then run uvicorn until interrupted."""
    import uvicorn

    from foveal.serve.app import create_app
    from foveal.serve.feedback import FeedbackStore
    from foveal.serve.registry import load_models

    models = load_models(specs)
    store = FeedbackStore(settings.feedback_dir) if settings.feedback_dir else None
    app = create_app(models, settings, store)
    names = ", ".join(f"{m.name} ({m.predictor.family}, {m.load_seconds:.1f} s)" for m in models)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    err_console.print(f"serving {names} on http://{shown}:{settings.port}/  (API docs: /docs)",
                      markup=False, highlight=False)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, access_log=False,
                server_header=False, timeout_graceful_shutdown=5)
