"""Model bundles: one self-describing, pickle-free directory per model."""

from __future__ import annotations

from pathlib import Path

from foveal.bundle.format import read_manifest
from foveal.bundle.predictor import FileResult, Predictor

__all__ = ["FileResult", "Predictor", "load_bundle"]


def resolve_bundle_path(path: str | Path) -> Path:
    """A bundle directory from itself, its ``foveal.json`` or its run folder."""
    path = Path(path)
    if path.name == "foveal.json":
        path = path.parent
    if (path / "model" / "foveal.json").is_file():  # a run folder
        path = path / "model"
    return path


def load_bundle(path: str | Path, device: str = "cpu") -> Predictor:
    """Load a bundle directory (or its ``foveal.json``, or its run folder) as a :class:`Predictor`.

    Artifacts are checked against their hashes and loaded by the manifest's runtime; nothing is
    unpickled. ``device`` places deep models (``cpu`` or ``cuda``).
    """
    from foveal.bundle.runtimes import load_model

    path = resolve_bundle_path(path)
    manifest = read_manifest(path)
    return Predictor(path, manifest, load_model(path, manifest, device))
