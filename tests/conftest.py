"""Shared fixtures: real PNG folders and manifests written from the built-in datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # plain helper modules such as dirty_images
# Tests read report.html and curves.png right after `foveal train`: draw them before it returns.
# tests/test_background_report.py covers the default, detached drawing.
os.environ["FOVEAL_REPORT_WAIT"] = "1"

from foveal.data.export import export_dataset  # noqa: E402
from helpers import small  # noqa: E402


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory) -> Path:
    """digits as a PNG ImageFolder with train/val/test folders (30 train images per class)."""
    dest = tmp_path_factory.mktemp("digits") / "digits"
    export_dataset(small("digits", 30), dest, "folder")
    return dest


@pytest.fixture(scope="session")
def faces_folder(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("faces") / "faces"
    export_dataset(small("faces", 40), dest, "folder")
    return dest


@pytest.fixture(scope="session")
def taxonomy_folder(tmp_path_factory) -> Path:
    """digit-taxonomy as nested class folders: split/family/digit/*.png."""
    dest = tmp_path_factory.mktemp("taxonomy") / "taxonomy"
    export_dataset(small("digit-taxonomy", 25), dest, "folder")
    return dest


@pytest.fixture(scope="session")
def multidigits_manifest(tmp_path_factory) -> Path:
    """multidigits as PNG files plus manifest.csv with a labels column."""
    dest = tmp_path_factory.mktemp("multi") / "multidigits"
    export_dataset(small("multidigits", 30), dest, "manifest")
    return dest / "manifest.csv"


@pytest.fixture()
def dirty_folder(tmp_path, digits_folder) -> Path:
    """A class-folder tree of real digits PNGs plus the dirty files from dirty_images."""
    from dirty_images import write_dirty_images

    root = tmp_path / "dirty"
    for cls in ("3", "5"):
        src = digits_folder / "train" / cls
        (root / cls).mkdir(parents=True)
        for png in sorted(src.glob("*.png"))[:20]:
            (root / cls / png.name).write_bytes(png.read_bytes())
    write_dirty_images(root / "5")
    return root
