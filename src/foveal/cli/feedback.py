"""`foveal feedback export`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console

feedback_app = typer.Typer(help="Feedback collected by `foveal serve --feedback-dir`.", no_args_is_help=True)


@feedback_app.command("export")
def export_command(
    folder: Path = typer.Argument(..., help="The --feedback-dir of `foveal serve`."),
    out: Path = typer.Option(..., "--out", "-o", help="New (or empty) folder for the dataset."),
    fmt: str = typer.Option("manifest", "--format", help="manifest (manifest.csv + images/) or folder "
                                                         "(<class>/<sha256>.<ext>)."),
    model: Optional[str] = typer.Option(None, "--model", help="Only this served model's feedback."),
) -> None:
    """Turn feedback into a dataset for `foveal train` / `--init-from` (newest label per image)."""
    from foveal.serve.feedback_export import export_feedback

    summary = export_feedback(folder, out, fmt, model)
    classes = ", ".join(f"{k} {v}" for k, v in summary["classes"].items())
    console.print(f"wrote {summary['images']} images ({summary['task']}; {classes}) to {summary['path']} "
                  f"as a {summary['format']}", markup=False, highlight=False)
