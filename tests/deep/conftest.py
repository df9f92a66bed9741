"""Fixtures for the deep-learning tests: tiny runs on the real PNG folders from tests/conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deep_helpers import FAMILIES


@pytest.fixture(scope="session")
def families_folder(tmp_path_factory, digits_folder) -> Path:
    """A task related to digits: the same images labelled by shape family (loops / lines / curves)."""
    dest = tmp_path_factory.mktemp("families") / "families"
    for png in digits_folder.rglob("*.png"):
        split, digit = png.parent.parent.name, png.parent.name
        target = dest / split / FAMILIES[digit]
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, target / f"{digit}-{png.name}")
    return dest
