"""Bundles made from a parent bundle (calibrate, save-threshold, fine-tune, later export/prune/quantize).

The parent is only read. A child's ``lineage.parent`` names the parent's path, the hash of
its ``foveal.json`` and the operation that made the child.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path

from foveal.bundle.format import MANIFEST_NAME, read_file, save_bundle, sha256
from foveal.errors import BundleError, ConfigError


def parent_ref(path: str | Path, operation: str) -> dict:
    """What a child's ``lineage.parent`` records about the bundle at ``path``."""
    path = Path(path).resolve()
    return {"path": str(path), "manifest_sha256": sha256((path / MANIFEST_NAME).read_bytes()),
            "operation": operation}


def derive_bundle(parent, dest: str | Path, changes: dict, operation: str,
                  files: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> Path:
    """Write ``dest``: ``parent``'s artifacts minus ``drop`` plus ``files`` (added or replaced), and its
    manifest updated with ``changes`` (e.g. ``{"runtime": "onnx"}`` when an export swaps the weights)."""
    dest, source = Path(dest), Path(parent.path).resolve()
    if dest.resolve() == source or source in dest.resolve().parents:
        raise ConfigError(f"--out {dest} is inside the input bundle", "give a folder outside it; inputs are never modified")
    if dest.is_dir() and not any(dest.iterdir()):
        dest.rmdir()  # an empty folder is as good as a new one
    elif dest.exists():
        raise BundleError(f"{dest} already exists", "choose a new --out folder; bundles are never overwritten")
    manifest = copy.deepcopy(parent.manifest)
    kept = [name for name in manifest.pop("files", {}) if name not in drop]
    artifacts = {name: read_file(parent.path, name, parent.manifest) for name in kept}
    artifacts.update(files or {})
    for key in ("format", "format_version"):
        manifest.pop(key, None)
    manifest.update(changes)
    lineage = manifest.setdefault("lineage", {})
    lineage["parent"] = parent_ref(parent.path, operation)
    lineage["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return save_bundle(dest, manifest, artifacts)
