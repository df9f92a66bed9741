"""`foveal models`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console


def models_command(pattern: Optional[str] = typer.Argument(None, help="Only names containing this text (or a glob such as 'resnet*').")) -> None:
    """List the classifiers, feature extractors and deep architectures that --model and --features take."""
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
    _deep_table(pattern)


def _deep_table(pattern: str | None, limit: int = 200) -> None:
    """cnn-small and the timm architectures (all of them only when a pattern narrows the list)."""
    from foveal.deep.models import OWN_MODELS, list_models

    entries = list_models(pattern)
    table = Table(title="deep models (--model; timm architectures, built without downloads)", header_style="bold")
    table.add_column("name")
    table.add_column("description")
    shown = entries if pattern else OWN_MODELS
    for name, doc in list(shown.items())[:limit]:
        table.add_row(name, doc)
    console.print(table)
    hidden = len(entries) - min(len(shown), limit)
    if hidden > 0:
        console.print(f"… and {hidden} more timm architectures; narrow with `foveal models PATTERN` (e.g. resnet, 'vit_*')")
