"""`foveal models`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console


def models_command(pattern: Optional[str] = typer.Argument(None, help="Only names containing this text (or a glob such as 'resnet*').")) -> None:
    """List the classifiers, feature extractors and deep architectures that --model and --features take."""
    from foveal.classical.estimators import list_estimators
    from foveal.deep.models import matches
    from foveal.features import list_features

    for title, entries in (("classifiers (--model)", list_estimators()), ("features (--features)", list_features())):
        rows = [(name, doc) for name, doc in entries.items() if matches(name, pattern)]
        if not rows:
            continue
        table = Table(title=title, header_style="bold")
        table.add_column("name")
        table.add_column("description")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    _deep_table(pattern)


def _deep_table(pattern: str | None, limit: int = 200) -> None:
    """cnn-small and the timm architectures (all of them only when a pattern narrows the list);
    parameter counts only when few enough match to build each one on the meta device."""
    from foveal.deep.models import OWN_MODELS, PARAMS_LIMIT, describe_model, model_names

    names = model_names(pattern)
    if not names:
        console.print(f"no deep architecture matches {pattern!r}")
        return
    shown = names if pattern else [n for n in names if n in OWN_MODELS]
    with_params = bool(pattern) and len(names) <= PARAMS_LIMIT
    table = Table(title="deep models (--model; timm architectures, built without downloads)", header_style="bold")
    width = max(len(n) for n in shown[:limit])
    table.add_column("name", no_wrap=True, min_width=width)  # names are copied into --model: never cut
    table.add_column("family", overflow="fold")
    table.add_column("params (M)", justify="right", no_wrap=True)
    table.add_column("input", no_wrap=True)
    notes = [n for n in shown[:limit] if n in OWN_MODELS]
    if notes:
        table.add_column("description")
    for name in shown[:limit]:
        info = describe_model(name, with_params or name in OWN_MODELS)
        params = "—" if info["params_m"] is None else f"{info['params_m']:.1f}"
        row = [name, info["family"], params, info["input_size"]]
        table.add_row(*(row + [OWN_MODELS.get(name, "")] if notes else row))
    console.print(table)
    hidden = len(names) - min(len(shown), limit)
    if hidden > 0:
        console.print(f"… and {hidden} more timm architectures; narrow with `foveal models PATTERN` (e.g. resnet, 'vit_*')")
    elif pattern and not with_params:
        console.print(f"{len(names)} architectures match: parameter counts are shown for at most {PARAMS_LIMIT}; "
                      "narrow the pattern to see them")
