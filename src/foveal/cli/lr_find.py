"""`foveal lr-find`: the learning-rate range test with a loss-vs-lr plot (takes the deep training options)."""

from __future__ import annotations

import inspect
from pathlib import Path

import typer

from foveal.cli.common import console
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options
from foveal.config import DEEP


def _own(name: str, annotation, option) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


RANGE_OPTIONS = [
    _own("plot", Path, typer.Option(Path("lr_find.png"), "--out", "-o", help="Plot to write (a .json with the numbers "
                                    "goes next to it).", rich_help_panel="Range test")),
    _own("min_lr", float, typer.Option(1e-6, "--min-lr", help="Start of the range.", rich_help_panel="Range test")),
    _own("max_lr", float, typer.Option(1.0, "--max-lr", help="End of the range.", rich_help_panel="Range test")),
    _own("steps", int, typer.Option(100, "--steps", help="Batches to run (fewer when the loss diverges).",
                                    rich_help_panel="Range test")),
]


def lr_find_body(data: str | None = None, config: Path | None = None, plot: Path = Path("lr_find.png"),
                 min_lr: float = 1e-6, max_lr: float = 1.0, steps: int = 100, **values) -> None:
    """Find a learning rate: train briefly at growing rates, plot the loss, suggest a value."""
    from foveal.data.load import load_dataset
    from foveal.deep.lr_find import lr_range_test
    from foveal.deep.lr_find import plot as plot_range_test
    from foveal.files import atomic_write_bytes, write_json
    from foveal.runs.pipeline import checked_engine

    values["model"] = values.get("model") or "cnn-small"
    cfg = config_from_values(data, config, values)
    engine = checked_engine(cfg, DEEP)
    ds = load_dataset(cfg.data, cfg.task)
    engine.check_task(cfg, ds.task)
    run = engine.load(cfg, ds)
    result = lr_range_test(cfg, ds.task, run.train.loaded.images, run.train.targets(), min_lr, max_lr, steps)
    atomic_write_bytes(plot, plot_range_test(result, f"{cfg.model} on {ds.name}"))
    write_json(plot.with_suffix(".json"), {"model": cfg.model, "data": ds.name, **result})
    console.print(f"suggested learning rate: {result['suggested']:.3g} (use --lr {result['suggested']:.2g})")
    console.print(f"wrote {plot} and {plot.with_suffix('.json')}")


def build_lr_find_command():
    options = option_parameters(panels={"data", DEEP, "augment", "transfer"})
    return with_options(lr_find_body, [DATA_ARGUMENT, CONFIG_OPTION, *RANGE_OPTIONS], options,
                        "Find a learning rate: train briefly at growing rates, plot the loss, suggest a value "
                        "(--model defaults to cnn-small here).")
