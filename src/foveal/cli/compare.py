"""`foveal compare`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console, err_console, skipped_table


def compare_command(
    bundles: list[Path] = typer.Argument(..., help="Two or more run folders or bundles."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Data to compare on. [default: the data the bundles were trained on]"),
    split: Optional[str] = typer.Option(None, "--split", help="Split to use, or all. [default: test if the data has one, else all]"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the comparison as JSON here."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML comparison here."),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
) -> None:
    """Compare models side by side on the same data: metrics, size and inference time."""
    from foveal.evaluation.compare import compare_bundles, comparison_json
    from foveal.evaluation.compare_report import comparison_rows
    from foveal.files import write_json

    entries = compare_bundles(bundles, data, split, max_skip_ratio)
    first = entries[0].evaluation
    header, rows = comparison_rows(entries)
    table = Table(title=f"{first.result['task']} · {first.result['n']} images · split {first.split} of "
                        f"{first.data_name}", header_style="bold")
    table.add_column("", no_wrap=True)
    for row in rows:  # one column per model, one row per metric: fits a terminal for a handful of models
        table.add_column(row[0], justify="right")
    for i, name in enumerate(header[1:], start=1):
        table.add_row(name, *(_cell(row[i]) for row in rows))
    console.print(table)
    if first.loaded.skipped:
        err_console.print(skipped_table(first.loaded.skipped))
    if json_out:
        write_json(json_out, comparison_json(entries))
        console.print(f"wrote {json_out}")
    if report:
        from foveal.evaluation.compare_report import write_comparison_report

        write_comparison_report(entries, report)
        console.print(f"wrote {report}")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)
