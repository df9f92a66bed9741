"""`foveal models`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console


def models_command(pattern: Optional[str] = typer.Argument(None, help="Only names containing this text.")) -> None:
    """List the classifiers and feature extractors that --model and --features take."""
    from foveal.classical.estimators import list_estimators
    from foveal.features import list_features

    for title, entries in (("classifiers (--model)", list_estimators()), ("features (--features)", list_features())):
        table = Table(title=title, header_style="bold")
        table.add_column("name")
        table.add_column("description")
        for name, doc in entries.items():
            if pattern is None or pattern.lower() in name.lower():
                table.add_row(name, doc)
        console.print(table)
