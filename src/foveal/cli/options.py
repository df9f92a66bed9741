"""Command-line options generated from ``foveal.config.TrainConfig``: names, help, defaults and
panels come from the one option definition, so ``train``, ``cv`` and ``lr-find`` never repeat them.

Every value arrives as text and is typed by ``foveal.config.coerce``, so a bad value gets
foveal's one-line error (``--lr 'abc' is not a number — write e.g. --lr 3e-3``).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Callable, Optional

import typer

from foveal.config import BOTH, PANELS, TrainConfig, default, option_fields, resolve, spec
from foveal.errors import ConfigError


def _default_text(name: str) -> str:
    value = default(name)
    if spec(name).panel == "augment":
        return "the preset's"
    if value in (None, {}, ""):
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _help(name: str) -> str:
    option = spec(name)
    text = option.help
    if option.choices and option.kind != "size" and not all(str(c) in text for c in option.choices):
        text += f" One of: {', '.join(str(c) for c in option.choices)}."
    shown = _default_text(name)
    return f"{text} \\[default: {shown}]" if shown else text  # escaped: rich would read [..] as markup


def _parameter(name: str) -> inspect.Parameter:
    option = spec(name)
    decls = [option.cli_flag(name)] + ([option.short] if option.short else [])
    panel = PANELS[option.panel]
    if option.kind == "bool":
        annotation, metavar = Optional[bool], None
    elif option.kind == "dict":
        annotation, metavar = Optional[list[str]], option.metavar
    else:
        annotation, metavar = Optional[str], option.metavar or _metavar(name)
    default_ = typer.Option(None, *decls, help=_help(name), rich_help_panel=panel, metavar=metavar,
                            show_default=False)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default_, annotation=annotation)


def _metavar(name: str) -> str:
    option = spec(name)
    if option.choices and option.kind == "str":
        return "NAME"
    return {"int": "INTEGER", "float": "NUMBER", "range": "MIN,MAX", "size": "PIXELS"}.get(option.kind, "TEXT")


def option_parameters(panels: set[str] | None = None, exclude: set[str] = frozenset(),
                      names: set[str] = frozenset(), engines: tuple[str, ...] = BOTH) -> list[inspect.Parameter]:
    """Parameters for the options in ``panels`` (all when None) plus ``names``, in definition order;
    only options that apply to one of ``engines`` (``foveal pretrain`` passes its own)."""
    return [_parameter(f.name) for f in option_fields()
            if spec(f.name).cli and f.name not in exclude and set(spec(f.name).applies) & set(engines)
            and (panels is None or spec(f.name).panel in panels or f.name in names)]


def with_options(body: Callable, leading: list[inspect.Parameter], options: list[inspect.Parameter],
                 doc: str) -> Callable:
    """A command callable for typer: ``body(**values)`` with ``leading`` parameters then ``options``."""

    def command(**values):
        try:
            return body(**values)
        except KeyboardInterrupt as stop:  # typer would turn it into exit 130 whatever the signal
            from foveal.cli.common import err_console

            err_console.print("foveal: interrupted")
            raise typer.Exit(getattr(stop, "exit_code", 130)) from None  # 143 after SIGTERM

    params = [*leading, *options]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc
    command.__name__ = body.__name__
    return command


def parse_params(items: list[str] | None) -> dict:
    """``["C=10", "kernel=linear"]`` → ``{"C": 10, "kernel": "linear"}`` (JSON scalars, never eval)."""
    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {item!r} is not KEY=VALUE", "write e.g. --param C=10")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def config_from_values(data, config: Path | None, values: dict) -> TrainConfig:
    """``TrainConfig`` from a command's option values: defaults < the YAML ``config`` < flags."""
    overrides = {name: value for name, value in values.items() if value is not None}
    if "params" in overrides:
        overrides["params"] = parse_params(overrides["params"])
    if data is not None:
        overrides["data"] = str(data)
    cfg = resolve(config, overrides)
    if not cfg.data:
        raise ConfigError("no training data given", "give DATA (a folder, a manifest or a built-in dataset), "
                          "or data: in --config")
    return cfg


DATA_ARGUMENT = inspect.Parameter(
    "data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Optional[str],
    default=typer.Argument(None, help="Folder, manifest (.csv/.jsonl/.parquet) or built-in dataset.", show_default=False))
CONFIG_OPTION = inspect.Parameter(
    "config", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
    default=typer.Option(None, "--config", "-c", help="YAML file of options (the same names, e.g. `epochs: 10`); "
                         "flags override it.", show_default=False))

