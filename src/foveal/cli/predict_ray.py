"""`foveal predict … --engine ray`: the command-line side of :mod:`foveal.batch.ray_predict`."""

from __future__ import annotations

from pathlib import Path

from foveal.cli.common import err_console
from foveal.errors import ConfigError

FORMAT_NAMES = {"table": "parquet", "parquet": "parquet", "json": "jsonl", "jsonl": "jsonl"}


def predict_on_ray(bundle: Path, inputs: list[str], top_k: int, fmt: str, output: Path | None, engine: str,
                   address: str | None) -> None:
    """Check the options, then predict on Ray and say what was written."""
    from foveal.cli.predict import expand_inputs

    if engine != "ray":
        hint = "--address applies to --engine ray only" if engine == "local" else f"unknown --engine {engine!r}"
        raise ConfigError(hint, "use --engine local (the default) or --engine ray")
    if output is None:
        raise ConfigError("--engine ray writes shards into a folder", "give --output DIR")
    if fmt not in FORMAT_NAMES:
        raise ConfigError(f"--format {fmt} does not apply to --engine ray", "use parquet (the default) or jsonl")
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConfigError("--engine ray needs Ray, which is not installed", "pip install 'foveal[ray]'") from None
    from foveal.batch.ray_predict import predict_with_ray

    files = expand_inputs(inputs)
    summary = predict_with_ray(bundle, files, output, fmt=FORMAT_NAMES[fmt], top_k=top_k, address=address)
    err_console.print(f"wrote {summary['rows']} rows in {summary['shards']} {FORMAT_NAMES[fmt]} shard(s) to "
                      f"{summary['path']}", markup=False, highlight=False)
    if summary["errors"]:
        err_console.print(f"[yellow]{summary['errors']} of {summary['rows']} input(s) could not be decoded[/]")
