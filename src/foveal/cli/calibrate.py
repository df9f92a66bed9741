"""`foveal calibrate`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console


def calibrate_command(
    bundle: Path = typer.Argument(..., help="Model bundle to calibrate (never modified)."),
    data: str = typer.Argument(..., help="Data whose validation split the temperature is fitted on."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the new, calibrated bundle."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to fit on. [default: val, else the hold-out the training run made]"),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
) -> None:
    """Fit temperature scaling on validation data and write a calibrated copy of the bundle."""
    from foveal.transforms.calibrate import calibrate_bundle

    result = calibrate_bundle(bundle, data, out, split=split, max_skip_ratio=max_skip_ratio)
    console.print(f"temperature {result.temperature:.4f} fitted on {result.n} images ({result.split})")
    console.print(f" NLL {result.before['nll']:.4f} → {result.after['nll']:.4f} · "
                  f"ECE {result.before['ece']:.4f} → {result.after['ece']:.4f}")
    if result.at_bound:
        err_console.print("[yellow]warning: the temperature hit its search bound: the validation split is "
                          "(nearly) perfectly separated or too small to calibrate on; use more validation data[/]")
    console.print(f"calibrated bundle: {result.bundle}")
