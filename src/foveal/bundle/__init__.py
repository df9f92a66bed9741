"""Model bundles: one self-describing, pickle-free directory per model."""

from __future__ import annotations

from pathlib import Path

from foveal.bundle.format import read_manifest
from foveal.bundle.predictor import FileResult, Predictor
from foveal.errors import BundleError

__all__ = ["FileResult", "Predictor", "load_bundle"]


def resolve_bundle_path(path: str | Path) -> Path:
    """A bundle directory from itself, its ``foveal.json`` or its run folder."""
    path = Path(path)
    if path.name == "foveal.json":
        path = path.parent
    if (path / "model" / "foveal.json").is_file():  # a run folder
        path = path / "model"
    return path


def load_bundle(path: str | Path) -> Predictor:
    """Load a bundle directory (or its ``foveal.json``) as a :class:`Predictor`."""
    path = resolve_bundle_path(path)
    manifest = read_manifest(path)
    kind = manifest.get("kind")
    if kind == "classical":
        from foveal.bundle.classical import ClassicalModel

        return Predictor(path, manifest, ClassicalModel.load(path, manifest))
    if kind == "deep":
        from foveal.bundle.deep import DeepModel

        return Predictor(path, manifest, DeepModel.load(path, manifest))
    raise BundleError(f"{path} holds a {kind!r} model, which this foveal cannot load", "upgrade foveal")
