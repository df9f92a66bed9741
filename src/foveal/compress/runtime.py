"""``--runtime torch|onnx`` for predict and eval: run a bundle on an explicitly chosen back end.

A bundle's own runtime loads as usual (an ONNX bundle never imports torch). A torch or scikit-learn
bundle asked for ``onnx`` is exported in memory (parity checked on its validation data when that
data is still here). An ONNX bundle has no torch weights: asking it for ``torch`` names its parent.
"""

from __future__ import annotations

from foveal.errors import BundleError, ConfigError, warn

RUNTIMES = ("torch", "onnx", "sklearn")


def load_for_runtime(bundle, runtime: str | None = None):
    """The bundle's Predictor, on ``runtime`` when given."""
    from foveal.bundle import load_bundle, resolve_bundle_path
    from foveal.bundle.format import read_manifest

    if runtime is None:
        return load_bundle(bundle)
    if runtime not in RUNTIMES:
        raise ConfigError(f"unknown --runtime {runtime!r}", f"use one of {', '.join(RUNTIMES)}")
    path = resolve_bundle_path(bundle)
    own = read_manifest(path)["runtime"]
    if own == runtime:
        return load_bundle(path)
    if runtime == "onnx":
        return _converted(load_bundle(path))
    parent = read_manifest(path).get("lineage", {}).get("parent") or {}
    hint = f"use its parent {parent['path']}" if parent.get("path") else "use the bundle it was exported from"
    raise BundleError(f"{path} runs on {own} and holds no {runtime} model", f"{hint}, or drop --runtime")


def _converted(predictor):
    from foveal.compress.export import converted_in_memory, graph_bytes, onnx_predictor

    try:
        converted, _, _ = converted_in_memory(predictor)
        return converted
    except ConfigError:  # the validation data is not here: convert without the check
        warn(f"{predictor.path}'s validation data is not here: the in-memory ONNX export was not parity-checked "
             "(use `foveal export --data DATA` for a checked bundle)")
        return onnx_predictor(predictor, graph_bytes(predictor))
