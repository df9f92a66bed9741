"""Shared CLI helpers: consoles, option parsing, writing outputs."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from foveal.files import atomic_write_text

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically, or to stdout."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(output, text)
        err_console.print(f"wrote {output}")


def metrics_table(metrics: dict, title: str | None = None) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, "—" if value is None or value != value else f"{value:.4f}")
    return table


def confusion_table(classes: list[str], matrix: list[list[int]]) -> Table:
    table = Table(title="confusion matrix (rows: true, columns: predicted)", header_style="bold")
    table.add_column("")
    for c in classes:
        table.add_column(c, justify="right")
    for c, row in zip(classes, matrix):
        table.add_row(c, *(f"[bold]{v}[/]" if i == classes.index(c) else str(v) for i, v in enumerate(row)))
    return table


def skipped_table(skipped: list[dict], limit: int = 20) -> Table:
    table = Table(title=f"{len(skipped)} file(s) skipped", header_style="bold")
    table.add_column("path")
    table.add_column("reason")
    for item in skipped[:limit]:
        table.add_row(item["path"], item["reason"])
    if len(skipped) > limit:
        table.add_row(f"… {len(skipped) - limit} more", "")
    return table
