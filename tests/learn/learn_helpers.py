"""Helpers for the learn tests (a plain module: conftest names are ambiguous across folders)."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli

FAST = ["--image-size", "16", "--batch-size", "16", "--workers", "1"]


def pretrain(capsys, data, out: Path, method: str, *extra) -> Path:
    code, stdout, stderr = run_cli(capsys, "--quiet", "pretrain", data, "--out", out, "--method", method,
                                   "--epochs", "2", *FAST, *extra)
    assert code == 0, stderr
    return out
