"""The bundle on disk: ``foveal.json`` plus artifact files, written atomically, hashes checked on read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from foveal.errors import BundleError

BUNDLE_FORMAT = "foveal-bundle"
FORMAT_VERSION = 2
MANIFEST_NAME = "foveal.json"
FAMILIES = ("classical", "deep")
V1_RUNTIMES = {"classical": "sklearn", "deep": "torch"}  # version 1 had one runtime per kind
PURPOSES = ("classifier", "backbone")  # manifest "purpose"; absent means classifier


def is_backbone(manifest: dict) -> bool:
    """A backbone bundle (``foveal pretrain``): a network that embeds images, with no classifier."""
    return manifest.get("purpose") == "backbone"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_bundle(dest: Path, manifest: dict, files: dict[str, bytes]) -> Path:
    """Write a new bundle directory at ``dest``: everything goes to a temporary
    sibling first and is renamed into place, so a crash never leaves half a bundle."""
    dest = Path(dest)
    if dest.exists():
        raise BundleError(f"{dest} already exists", "choose another --out; bundles are never overwritten")
    bad = [n for n in files if not n or "/" in n or "\\" in n or n.startswith(".") or n == MANIFEST_NAME]
    if bad:
        raise BundleError(f"artifact names {bad} cannot be written into a bundle", "report this as a foveal bug")
    body = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "files")}
    manifest = upgrade({"format": BUNDLE_FORMAT, "format_version": FORMAT_VERSION, **body,
                        "files": {name: sha256(data) for name, data in files.items()}}, dest / MANIFEST_NAME)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a bundle is meant to be shared
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        for item in tmp.iterdir():
            with open(item, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def read_manifest(path: Path) -> dict:
    """The bundle's ``foveal.json``, checked for format and version."""
    path = Path(path)
    if path.is_file() and path.name == MANIFEST_NAME:
        path = path.parent
    file = path / MANIFEST_NAME
    if not path.is_dir() or not file.is_file():
        raise BundleError(f"{path} is not a foveal bundle (no {MANIFEST_NAME})",
                          "pass the model/ folder that `foveal train` wrote in its run folder")
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{file} is not valid JSON ({err})", "the bundle is damaged; retrain or restore it") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{file} is not a foveal bundle manifest", "pass a bundle written by foveal")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BundleError(f"{path} uses bundle format {version}, newer than this foveal understands ({FORMAT_VERSION})",
                          "upgrade foveal")
    return upgrade(manifest, file)


def upgrade(manifest: dict, where: Path | str = MANIFEST_NAME) -> dict:
    """A manifest in the current layout: version 1's ``kind`` becomes ``family`` + ``runtime``."""
    if manifest.get("format_version", 1) < 2:
        manifest = dict(manifest)
        kind = manifest.pop("kind", None)
        if kind not in V1_RUNTIMES:
            raise BundleError(f"{where} holds a {kind!r} model", "the bundle is damaged; restore or retrain it")
        manifest.update(family=kind, runtime=V1_RUNTIMES[kind], format_version=FORMAT_VERSION)
    family, runtime = manifest.get("family"), manifest.get("runtime")
    if family not in FAMILIES or not isinstance(runtime, str):
        raise BundleError(f"{where} names model family {family!r} and runtime {runtime!r}",
                          "the bundle is damaged or from a newer foveal; restore it or upgrade foveal")
    if manifest.get("purpose", "classifier") not in PURPOSES:
        raise BundleError(f"{where} has purpose {manifest.get('purpose')!r}",
                          "the bundle is damaged or from a newer foveal; restore it or upgrade foveal")
    return manifest


def read_file(path: Path, name: str, manifest: dict) -> bytes:
    """One artifact's bytes, refused unless its hash matches the manifest."""
    expected = manifest.get("files", {}).get(name)
    file = Path(path) / name
    if expected is None or not file.is_file():
        raise BundleError(f"{path} lacks {name}", "the bundle is incomplete; retrain or restore it")
    data = file.read_bytes()
    if sha256(data) != expected:
        raise BundleError(f"{file} does not match the hash in {MANIFEST_NAME}",
                          "the file was changed or damaged; restore the bundle")
    return data
