"""`foveal robustness`: accuracy (the task's main metric) under common corruptions at five severities."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console, err_console, skipped_table
from foveal.errors import ConfigError


def _list(text: str | None, kind=str) -> list | None:
    if text is None:
        return None
    try:
        return [kind(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{text!r} is not a comma-separated list of numbers", "write e.g. --severities 1,3,5") from None


def robustness_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset (labelled)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to use, or all. [default: test if DATA has one, else all]"),
    corruptions: Optional[str] = typer.Option(None, "--corruptions", help="Comma-separated subset, e.g. "
                                              "gaussian_noise,jpeg. [default: all 13]"),
    severities: Optional[str] = typer.Option(None, "--severities", help="Comma-separated, 1-5. [default: 1,2,3,4,5]"),
    tta: bool = typer.Option(False, "--tta", help="Test-time augmentation: average over shifted / zoomed (and, "
                             "for models trained with flips, flipped) views."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="A bundle to normalise errors by (mCE)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the random parts of the corruptions."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the results as JSON here."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML page here."),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
) -> None:
    """How a bundle degrades under noise, blur, JPEG, pixelation, colour, rotation and occlusion."""
    from foveal.audit.robustness import run_robustness
    from foveal.files import write_json

    result = run_robustness(bundle, data, split, _list(corruptions), _list(severities, int), seed, tta, baseline,
                            max_skip_ratio)
    r = result.result
    console.print(_table(r))
    line = (f"clean {r['metric']} {r['clean']:.4f} · mean under corruption {r['mean_corruption']:.4f} · "
            f"relative drop {r['relative_drop']:.1%}")
    if r.get("mce") is not None:
        line += f" · mCE {r['mce']:.3f} · relative mCE {r['relative_mce']:.3f}"
    console.print(line)
    if r.get("tta"):
        console.print(f"TTA views: {', '.join(r['tta'])}")
    if r["skipped"]:
        err_console.print(skipped_table(r["skipped"]))
    if json_out:
        write_json(json_out, r)
        console.print(f"wrote {json_out}")
    if report:
        from foveal.audit.robustness_report import write_robustness_report

        write_robustness_report(result, report)
        console.print(f"wrote {report}")


def _table(r: dict) -> Table:
    severities = sorted({s for per in r["corruptions"].values() for s in per}, key=int)
    table = Table(title=f"{r['metric']} · {r['n']} images · split {r['split']} of {r['data']}", header_style="bold")
    table.add_column("corruption")
    for s in severities:
        table.add_column(s, justify="right")
    table.add_column("mean", justify="right", style="bold")
    table.add_row("clean", *([f"{r['clean']:.4f}"] * len(severities)), f"{r['clean']:.4f}")
    for name, per in r["corruptions"].items():
        table.add_row(name, *(f"{per[s]:.4f}" for s in severities), f"{r['per_corruption'][name]:.4f}")
    return table
