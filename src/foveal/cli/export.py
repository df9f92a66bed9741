"""`foveal export`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.refusals import refusal_exits_1


def export_command(
    bundle: Path = typer.Argument(..., help="Model bundle to export (never modified)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the new ONNX bundle."),
    fmt: str = typer.Option("onnx", "--format", help="Export format: onnx."),
    data: Optional[str] = typer.Option(None, "--data", help="Real images for the parity check. \\[default: the bundle's validation data]"),
    opset: int = typer.Option(17, "--opset", help="ONNX opset to write."),
    parity_images: int = typer.Option(256, "--parity-images", min=1, help="Images the parity check uses."),
) -> None:
    """Export a bundle to ONNX (normalisation, network and head in one graph), refused unless parity holds."""
    from foveal.compress.export import export_bundle

    with refusal_exits_1():
        result = export_bundle(bundle, out, data=data, fmt=fmt, opset=opset, n=parity_images)
    p = result.parity
    console.print(f"parity on {p.n} images of {p.data} ({p.split}): decisions identical, "
                  f"max |Δp| {p.max_abs_diff:.2e} (≤ {p.tolerance:.0e})")
    console.print(f"ONNX opset {result.opset} · {result.size_bytes / 2**20:.1f} MiB · {result.seconds:.1f} s")
    console.print(f"exported bundle: {result.bundle}")
