"""`foveal cv`: k-fold cross-validation with every option of `foveal train` (from ``foveal.config``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console, skipped_table
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options

NOT_FOR_CV = {"report"}  # folds never write reports


def _own(name: str, annotation, option) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


CV_OPTIONS = [
    _own("folds", int, typer.Option(5, "--folds", "-k", help="Number of folds (stratified; multi-label aware).",
                                    rich_help_panel="Cross-validation")),
    _own("json_out", Optional[Path], typer.Option(None, "--json", help="Also write {folds, mean, std, …} as JSON here.",
                                                   rich_help_panel="Cross-validation")),
    _own("include_test", bool, typer.Option(False, "--include-test", help="Cross-validate the test split too "
                                            "(default: it stays untouched).", rich_help_panel="Cross-validation")),
]


def cv_body(data: str | None = None, config: Path | None = None, folds: int = 5, json_out: Path | None = None,
            include_test: bool = False, **values) -> None:
    """Cross-validate ``--model`` on DATA and print the per-fold table with mean ± std."""
    from foveal.files import write_json
    from foveal.runs.cv import run_cv

    cfg = config_from_values(data, config, values)
    result = run_cv(cfg, folds, include_test)
    print_cv(result.summary)
    if result.summary["skipped"]:
        err_console.print(skipped_table(result.summary["skipped"]))
    if json_out:
        write_json(json_out, result.summary)
        console.print(f"wrote {json_out}")
    console.print(f"out-of-fold probabilities: {result.oof_csv}")
    console.print(f"run folder: {result.run_dir}")


def print_cv(summary: dict, limit: int = 8) -> None:
    """Metrics as rows, folds as columns, then mean and std (population, as ``scores.std()``)."""
    from rich import box
    from rich.table import Table

    from foveal.evaluation.metrics import HEADLINE

    names = [m for m in HEADLINE[summary["task"]] if m in summary["mean"]][:limit]
    model = summary["model"] + (f" on {summary['features']}" if summary.get("features") else "")
    table = Table(title=f"{summary['k']}-fold cross-validation · {model} · {summary['n']} images", header_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("fold", no_wrap=True)
    for f in summary["folds"]:
        table.add_column(str(f["fold"]), justify="right")
    table.add_column("mean", justify="right", style="bold")
    table.add_column("std", justify="right")
    table.add_row("images", *(str(f["n_val"]) for f in summary["folds"]), "", "")
    for m in names:
        table.add_row(m, *(_num(f["metrics"].get(m)) for f in summary["folds"]),
                      _num(summary["mean"][m]), _num(summary["std"][m]))
    console.print(table)


def _num(value) -> str:
    return "—" if value is None or value != value else f"{value:.4f}"


def build_cv_command():
    return with_options(cv_body, [DATA_ARGUMENT, CONFIG_OPTION, *CV_OPTIONS], option_parameters(exclude=NOT_FOR_CV),
                        "K-fold cross-validation: per-fold metrics, mean ± std and out-of-fold probabilities "
                        "(oof.csv). Takes every `foveal train` option.")
