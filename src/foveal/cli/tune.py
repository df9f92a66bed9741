"""`foveal tune`: an Optuna study over training options (the same options as `foveal train` fix the rest)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options

PANEL = "Tuning"


def _option(name: str, annotation, *decls: str, help: str, default=None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *decls, help=help, rich_help_panel=PANEL,
                                                  show_default=default is not None))


TUNE_OPTIONS = [
    _option("trials", int, "--trials", "-n", help="Finished trials (complete or pruned) the study should reach.",
            default=20),
    _option("timeout", Optional[float], "--timeout", help="Stop starting new trials after this many seconds."),
    _option("storage", Optional[str], "--storage", help="Optuna storage URL, e.g. sqlite:///tune.db (rerun the "
            "same command to continue). \\[default: sqlite:///OUT/tune.db]"),
    _option("study", Optional[str], "--study", help="Study name. \\[default: <model>-<data name>]"),
    _option("space", Optional[Path], "--space", help="YAML overriding the default search space (see README)."),
    _option("out", Optional[Path], "--out", "-o", help="Folder for the study's best.yaml, tune.html and final/ "
            "run. \\[default: runs/tune-<study>]"),
    _option("final", bool, "--final/--no-final", help="Train a final model with the best configuration.",
            default=True),
]


def tune_body(data: str | None = None, config: Path | None = None, trials: int = 20, timeout: float | None = None,
              storage: str | None = None, study: str | None = None, space: Path | None = None,
              out: Path | None = None, final: bool = True, **values) -> None:
    """Search training options with Optuna and train a final model with the best ones."""
    from foveal.errors import ConfigError
    from foveal.runs.engines import engine_name
    from foveal.tune.space import default_space, read_space
    from foveal.tune.study import TuneSetup, run_tune

    if trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}", "write e.g. --trials 20")
    base = config_from_values(data, config, values)
    name = study or f"{base.model}-{Path(str(base.data)).name}"
    out = Path(out) if out else Path(base.project) / f"tune-{name}"
    storage = storage or f"sqlite:///{(out / 'tune.db').resolve()}"
    overrides = {k: v for k, v in values.items() if v is not None}
    if "params" in overrides:
        from foveal.cli.options import parse_params

        overrides["params"] = parse_params(overrides["params"])
    overrides["data"] = str(base.data)
    defaults = {k: v for k, v in default_space(engine_name(base), base.model).items()
                if k not in base.given}  # options given explicitly stay fixed (a --space file may still search them)
    setup = TuneSetup(values=overrides, config=config, space=read_space(space, defaults),
                      trials=trials, out=out, storage=storage, study=name, timeout=timeout, seed=base.seed, final=final)
    result = run_tune(setup)
    c = result.counts
    console.print(f"study {name}: {c['COMPLETE']} complete, {c['PRUNED']} pruned, {c['FAIL']} failed · "
                  f"best validation {result.metric} {result.best_value:.4f} (trial {result.study.best_trial.number})")
    console.print(f"best configuration: {result.best_yaml}  (foveal train --config {result.best_yaml})")
    if result.final:
        console.print(f"final model:        {result.final}")
    console.print(f"report:             {result.page}")


def build_tune_command():
    return with_options(tune_body, [DATA_ARGUMENT, CONFIG_OPTION, *TUNE_OPTIONS], option_parameters(exclude={"out", "name"}),
                        "Tune training options with Optuna (TPE; deep trials pruned on per-epoch validation "
                        "metrics); resumable from its SQLite storage. Writes best.yaml, a final model and tune.html.")
