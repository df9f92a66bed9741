"""`foveal train`: its options come from ``foveal.config`` (see ``cli.options``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console, metrics_table, skipped_table
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options
from foveal.errors import ConfigError

RESUME_OPTION = inspect.Parameter(
    "resume", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
    default=typer.Option(None, "--resume", help="Continue a deep run folder from its checkpoints/last (with its "
                         "saved options).", rich_help_panel="Run folder", show_default=False))

REPORT_WAIT_OPTION = inspect.Parameter(
    "report_wait", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
    default=typer.Option(False, "--report-wait", help="Return only once report.html and curves.png are drawn "
                         "(by default they are drawn in the background after the bundle is saved, about 2 s; "
                         "FOVEAL_REPORT_WAIT=1 does the same for every command).", rich_help_panel="Run folder"))


def train_body(data: str | None = None, config: Path | None = None, resume: Path | None = None,
               report_wait: bool = False, **values) -> None:
    """Train a classifier and write a run folder with its bundle in model/."""
    from foveal.runs.pipeline import run_training

    if resume is not None:
        _resume(resume, data, config, values, not report_wait)
        return
    result = run_training(config_from_values(data, config, values), background=not report_wait)
    if result is not None:  # None on DDP ranks other than 0
        print_summary(result)


def _resume(run_dir: Path, data, config, values: dict, background: bool) -> None:
    from foveal.runs.deep import resume_config
    from foveal.runs.pipeline import run_training

    given = [k for k, v in {"data": data, "config": config, **values}.items() if v is not None]
    if given:
        raise ConfigError(f"--resume continues a run with its saved options; {', '.join(given)} given too",
                          "drop the other options, or start a new run")
    result = run_training(resume_config(run_dir), resume=run_dir, background=background)
    if result is not None:
        print_summary(result)


def build_train_command():
    return with_options(train_body, [DATA_ARGUMENT, CONFIG_OPTION, RESUME_OPTION, REPORT_WAIT_OPTION], option_parameters(),
                        "Train a classifier (classical or deep) and write a run folder with its bundle in model/.")


def _model_text(result) -> str:
    cfg = result.config
    if result.engine != "classical":
        return cfg.model
    from foveal.runs.classical import resolve_features

    return f"{cfg.model} on {resolve_features(cfg.features, tuple(result.preprocessing['size']))} features"


def print_summary(result) -> None:
    prep = result.preprocessing
    h, w = prep["size"]
    console.print(f"[bold]trained[/] {_model_text(result)} · task {result.task} · "
                  f"{h}×{w}×{prep['channels']} · {result.n_train} train / {result.n_val} val images · "
                  f"{result.seconds:.1f} s")
    for note in result.notes:
        console.print(note, markup=False)
    if result.metrics:
        console.print(metrics_table(result.metrics["metrics"], title="validation"))
    if result.skipped:
        err_console.print(skipped_table(result.skipped))
        err_console.print(f"the skipped files are listed in {result.run_dir / 'skipped.csv'}")
    console.print(f"run folder: {result.run_dir}")
    if result.drawing and result.config.report:
        console.print(f"report:     {result.run_dir / 'report.html'} (being drawn in the background: a few seconds)")
    elif (result.run_dir / "report.html").is_file():
        console.print(f"report:     {result.run_dir / 'report.html'}")
    console.print(f"bundle:     {result.bundle}")
