"""`foveal datasets` and `foveal data check|export`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console, err_console
from foveal.errors import ConfigError

data_app = typer.Typer(help="Inspect and export datasets.", no_args_is_help=True)


def datasets_command() -> None:
    """List the built-in datasets (they ship inside installed packages: no downloads)."""
    from foveal.data.builtin import describe_builtins

    table = Table(header_style="bold")
    for column in ("name", "task", "images", "classes", "size", "description"):
        table.add_column(column, justify="right" if column in ("images", "classes") else "left")
    for d in describe_builtins():
        h, w = d["image_size"]
        table.add_row(d["name"], d["task"], str(d["n_images"]), str(d["n_classes"]), f"{h}×{w}×{d['channels']}",
                      d["description"])
    console.print(table)


@data_app.command("check")
def check_command(
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset."),
    task: str = typer.Option("auto", "--task", help="auto, binary, multiclass, multilabel, hierarchical."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the report as JSON here."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when problems are found."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Pixel limit per image."),
    near_distance: int = typer.Option(8, "--near-distance", min=0, max=32, help="Near-duplicates: the most bits "
                                      "(of 64) two images' perceptual hashes may differ by."),
) -> None:
    """Audit a dataset: class balance, undecodable files, duplicates, near-duplicates and train ↔ test
    leaks, sizes and modes."""
    from foveal.data.check import check_dataset
    from foveal.data.decode import DEFAULT_MAX_PIXELS
    from foveal.data.load import load_dataset
    from foveal.files import write_json

    report = check_dataset(load_dataset(data, task), max_pixels or DEFAULT_MAX_PIXELS, near_distance)
    _print_report(report)
    if json_out:
        write_json(json_out, report)
        console.print(f"wrote {json_out}")
    if strict and report["problems"]:
        raise typer.Exit(1)


def _print_report(r: dict) -> None:
    console.print(f"[bold]{r['data']}[/] · {r['task']} · {r['n_images']} images "
                  f"({r['n_decodable']} decodable) · splits {r['splits']}")
    table = Table(title="classes", header_style="bold")
    table.add_column("class")
    table.add_column("images", justify="right")
    for name, n in r["class_counts"].items():
        table.add_row(name, str(n))
    console.print(table)
    ratio = r["imbalance_ratio"]
    console.print(f"imbalance ratio (largest / smallest class): {ratio:.2f}" if ratio else "imbalance ratio: —")
    if r["width"]:
        console.print(f"width {r['width']} · height {r['height']} · modes {r['modes']} · formats {r['formats']}")
    for item in r["undecodable"][:20]:
        err_console.print(f"  undecodable: {item['path']}: {item['reason']}", markup=False)
    for title, key in (("duplicates", "duplicates"), ("different labels", "conflicting_duplicates"),
                       ("spanning splits", "cross_split_duplicates")):
        for group in r[key][:10]:
            err_console.print(f"  {title}: {', '.join(group)}", markup=False)
    for group in r["near_duplicates"][:10]:
        err_console.print(f"  near-duplicates: {', '.join(group)}", markup=False)
    for leak in r["leaks"][:10]:
        shown = ", ".join(f"{name} [{split}]" for name, split in zip(leak["samples"], leak["splits"]))
        err_console.print(f"  leak across splits: {shown}", markup=False)
    for w in r["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    if r["problems"]:
        console.print("[red]problems:[/] " + "; ".join(r["problems"]))
    else:
        console.print("[green]no problems found[/]")


@data_app.command("export")
def export_command(
    name: str = typer.Argument(..., help="Built-in dataset name (see `foveal datasets`)."),
    dest: Path = typer.Argument(..., help="New or empty folder to write into."),
    fmt: str = typer.Option("auto", "--format", help="folder (class folders per split), manifest (CSV), or auto."),
) -> None:
    """Write a built-in dataset as real PNG files, to see (or reuse) the expected layout."""
    from foveal.data.builtin import BUILTINS
    from foveal.data.export import export_dataset
    from foveal.data.load import load_dataset

    if name not in BUILTINS:
        raise ConfigError(f"{name!r} is not a built-in dataset", f"use one of {', '.join(BUILTINS)}")
    summary = export_dataset(load_dataset(name), dest, fmt)
    console.print(f"wrote {summary['n_images']} PNG images to {dest} as a {summary['format']} "
                  f"(splits: {', '.join(summary['splits'])})")
