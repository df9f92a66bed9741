"""Model runtimes by name: how a bundle's artifacts become a model that predicts.

A runtime is a class with ``load(path, manifest, device) -> model``; the model offers
``predict_proba``, ``embed``, ``differentiable`` and ``files`` (see ``predictor.Model``).
A new back end (e.g. onnxruntime) registers itself here; ``load_bundle`` picks it by the
manifest's ``runtime`` field.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from foveal.errors import BundleError

_RUNTIMES: dict[str, str] = {
    "sklearn": "foveal.bundle.classical:ClassicalModel",
    "torch": "foveal.bundle.deep:DeepModel",
    "onnx": "foveal.bundle.onnx:OnnxModel",
}


def register_runtime(name: str, target: str) -> None:
    """Make ``runtime: name`` bundles load with ``target`` ("package.module:Class")."""
    _RUNTIMES[name] = target


def list_runtimes() -> list[str]:
    return sorted(_RUNTIMES)


def runtime_class(name: str):
    if name not in _RUNTIMES:
        raise BundleError(f"this foveal has no {name!r} runtime (it knows {', '.join(list_runtimes())})",
                          "install the extra that provides it, or upgrade foveal")
    module, attr = _RUNTIMES[name].split(":")
    return getattr(importlib.import_module(module), attr)


def load_model(path: Path, manifest: dict, device: str = "cpu"):
    """The bundle's model, loaded by its runtime."""
    return runtime_class(manifest["runtime"]).load(Path(path), manifest, device)
