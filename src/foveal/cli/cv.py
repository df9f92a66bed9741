"""`foveal cv`: k-fold cross-validation with every option of `foveal train`.

The command's parameters are `foveal train`'s own (read from its signature)
plus the few below, so options the training command gains (deep models'
``--epochs`` …) appear here without being written twice. Options whose name is
a ``TrainConfig`` field flow into the config unchanged.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console, skipped_table
from foveal.cli.train import config_from_options

NOT_FOR_CV = {"no_report", "resume"}  # folds never write reports; a cv run is not resumable


def _cv_options(
    folds: int = typer.Option(5, "--folds", "-k", help="Number of folds (stratified; multi-label aware)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write {folds, mean, std, …} as JSON here."),
    include_test: bool = typer.Option(False, "--include-test", help="Cross-validate the test split too (default: it stays untouched)."),
) -> None:
    """Signature holder for the options only `foveal cv` has."""


def cv_body(folds: int, json_out: Path | None, include_test: bool, **train_options) -> None:
    """Cross-validate ``--model`` on DATA and print the per-fold table with mean ± std."""
    from foveal.evaluation.cv import run_cv
    from foveal.files import write_json

    cfg = config_from_options(train_options)
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
    table = Table(title=f"{summary['k']}-fold cross-validation · {model} · {summary['n']} images", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
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
    """`foveal cv`'s callable: :func:`cv_body` with `foveal train`'s parameters plus the cv options."""
    from foveal.cli.train import train_command

    train_params = inspect.signature(train_command, eval_str=True).parameters
    own = inspect.signature(_cv_options, eval_str=True).parameters
    params = [train_params["data"], *own.values(),
              *(p for name, p in train_params.items() if name != "data" and name not in NOT_FOR_CV)]

    def cv_command(**options):
        cv_body(options.pop("folds"), options.pop("json_out"), options.pop("include_test"), **options)

    cv_command.__signature__ = inspect.Signature(params)
    cv_command.__annotations__ = {p.name: p.annotation for p in params}
    cv_command.__doc__ = ("K-fold cross-validation: per-fold metrics, mean ± std and out-of-fold probabilities "
                          "(oof.csv). Takes every `foveal train` option.")
    return cv_command
