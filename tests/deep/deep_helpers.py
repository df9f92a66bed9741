"""Helpers for the deep-learning tests (a plain module: ``conftest`` names are ambiguous across folders)."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli

FAMILIES = {"0": "loops", "6": "loops", "8": "loops", "9": "loops", "1": "lines", "4": "lines", "7": "lines",
            "2": "curves", "3": "curves", "5": "curves"}
FAST = ["--image-size", "16", "--batch-size", "32", "--no-report", "--workers", "1"]


def train_deep(capsys, out: Path, data, *extra) -> Path:
    code, stdout, stderr = run_cli(capsys, "--quiet", "train", data, "--out", out, *FAST, *extra)
    assert code == 0, stderr
    return out
