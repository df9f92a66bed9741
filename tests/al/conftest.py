"""Fixtures of the active-learning tests: a small real digits folder and a pool made from it by the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CLASSES = ("0", "1", "2", "3")
PER_CLASS = 16


@pytest.fixture(scope="session")
def tiny_digits(tmp_path_factory, digits_folder) -> Path:
    """Four digit classes, 16 real PNGs each, as a class-folder tree without splits (64 images)."""
    root = tmp_path_factory.mktemp("al-data") / "tiny"
    for cls in CLASSES:
        (root / cls).mkdir(parents=True)
        pngs = sorted((digits_folder / "train" / cls).glob("*.png"))[:PER_CLASS]
        for png in pngs:
            shutil.copyfile(png, root / cls / png.name)
    return root


@pytest.fixture()
def pool(tmp_path, tiny_digits, capsys) -> Path:
    """A fresh pool with 2 labelled images per class (the rest hidden)."""
    from helpers import run_cli

    out = tmp_path / "pool"
    code, _, err = run_cli(capsys, "--quiet", "al", "init", tiny_digits, "--out", out, "--keep-labels", "2")
    assert code == 0, err
    return out


@pytest.fixture(scope="session")
def trained_pool(tmp_path_factory, tiny_digits) -> tuple[Path, Path]:
    """A pool trained once with `foveal al train` (logistic on pixels): (pool, bundle). Tests copy it."""
    from foveal.cli import main

    out = tmp_path_factory.mktemp("al-trained") / "pool"
    assert main(["--quiet", "al", "init", str(tiny_digits), "--out", str(out), "--keep-labels", "3"]) == 0
    assert main(["--quiet", "al", "train", str(out), "--model", "logistic", "--features", "pixels",
                 "--no-report"]) == 0
    return out, out / "runs" / "round-0" / "model"


@pytest.fixture()
def fresh_trained(tmp_path, trained_pool) -> tuple[Path, Path]:
    """A private copy of the trained pool (its bundle path is recorded absolute, so it stays valid)."""
    src, bundle = trained_pool
    dest = tmp_path / "pool"
    shutil.copytree(src, dest)
    return dest, dest / "runs" / "round-0" / "model"
