"""`foveal quantize`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.refusals import refusal_exits_1


def quantize_command(
    bundle: Path = typer.Argument(..., help="Model bundle (ONNX, or torch / scikit-learn: exported first)."),
    data: str = typer.Option(..., "--data", help="Calibration images come from its train/val splits; accuracy from its test split."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the new int8 bundle."),
    calibration_images: int = typer.Option(200, "--calibration-images", "-n", help="Images that calibrate activation ranges (static mode)."),
    mode: str = typer.Option("static", "--mode", help="static (QDQ, calibrated) or dynamic."),
    max_drop: float = typer.Option(1.0, "--max-drop", help="Refuse (exit 1, no bundle) when accuracy drops more than this many points."),
    split: Optional[str] = typer.Option(None, "--split", help="Split for accuracy before/after. \\[default: test]"),
    per_channel: bool = typer.Option(True, "--per-channel/--per-tensor", help="Per-channel weight scales."),
) -> None:
    """Quantize a bundle to int8 with onnxruntime; refused when the accuracy drop exceeds --max-drop."""
    from foveal.compress.quantize import quantize_bundle

    with refusal_exits_1():
        result = quantize_bundle(bundle, data, out, n=calibration_images, mode=mode, max_drop=max_drop,
                                 split=split, per_channel=per_channel)
    print_report(result.report)
    console.print(f"int8 bundle: {result.bundle}")


def print_report(report: dict) -> None:
    acc, size = report["accuracy"], report["size"]
    calib = report.get("calibration")
    if calib:
        console.print(f"{report['mode']} int8 ({report['format']}, per-channel {report['per_channel']}) calibrated on "
                      f"{calib['n']} images of {calib['data']} ({calib['split']})")
    console.print(f"{acc['metric']} on {acc['n']} images ({acc['split']}): {acc['before']:.4f} → {acc['after']:.4f} "
                  f"(drop {acc['drop_points']:.2f} points, allowed {acc['max_drop_points']:g})")
    console.print(f"size {size['fp32_bytes'] / 2**20:.2f} MiB → {size['int8_bytes'] / 2**20:.2f} MiB "
                  f"({size['ratio']:.2f}×)")
    for batch, s in report.get("speed", {}).items():
        console.print(f"speed at {batch.replace('_', ' ')}: {s['fp32_images_per_s']:,.0f} → "
                      f"{s['int8_images_per_s']:,.0f} images/s ({s['ratio']:.2f}×)")
