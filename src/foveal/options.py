"""How one option is defined, typed and checked — the machinery behind ``foveal.config``.

An :class:`Option` rides in a dataclass field's metadata (``opt``); :func:`typed` turns a flag's
text or a YAML value into the option's type and :func:`check` refuses values outside its choices
or range, each with a one-line :class:`~foveal.errors.ConfigError` that names the flag and a fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foveal.errors import ConfigError

BOTH = ("classical", "deep")


@dataclass(frozen=True)
class Option:
    """How one option is typed, shown and checked.

    ``kind``: int, float, str, bool, dict, size (a number or a word), range ("lo,hi").
    ``applies``: the engines the option means something to. ``estimator``: whether
    ``ImageClassifier`` takes it as a constructor parameter (run-folder options do not).
    """

    help: str
    kind: str
    panel: str = "data"
    flag: str | None = None  # "--report/--no-report"; None: derived from the name
    cli: bool = True  # False: YAML / Python only
    short: str | None = None
    choices: tuple = ()
    words: tuple = ()  # kind "size": the words allowed besides a number
    low: float | None = None
    high: float | None = None
    high_open: bool = False
    low_open: bool = False
    applies: tuple[str, ...] = BOTH
    needs: tuple[str, ...] = ()  # options of which one must be set for this one to mean something
    estimator: bool = True
    metavar: str | None = None
    example: str = ""

    def cli_flag(self, name: str) -> str:
        return self.flag or "--" + name.replace("_", "-")


def opt(default: Any, help: str, kind: str, **spec: Any):
    """A dataclass field whose metadata is its :class:`Option`."""
    option = Option(help=help, kind=kind, **spec)
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"option": option})
    return field(default=default, metadata={"option": option})


@dataclass(frozen=True)
class Named:
    """An option with its field name and default: what messages and checks need."""

    name: str
    option: Option
    default: Any

    @property
    def flag(self) -> str:
        return self.option.cli_flag(self.name).split("/")[0] if self.option.cli else self.name

    @property
    def example(self):
        return self.option.example or (self.default if self.default not in (None, "", {}) else 1)


def _number(n: Named, value, kind: str):
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ConfigError(f"{n.flag} should be a number, got {value!r}", f"write e.g. {n.flag} {n.example}")
    try:
        number = float(value) if kind == "float" else _whole(value)
    except (TypeError, ValueError):
        what = "a whole number" if kind == "int" else "a number"
        raise ConfigError(f"{n.flag} {value!r} is not {what}", f"write e.g. {n.flag} {n.example}") from None
    if kind == "float" and not math.isfinite(number):
        raise ConfigError(f"{n.flag} must be finite, got {value!r}", f"write e.g. {n.flag} {n.example}")
    return number


def _whole(value) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def _pair(n: Named, value):
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{n.flag} needs two numbers MIN,MAX, got {value!r}", f"write e.g. {n.flag} 0.9,1.1")
    low, high = (_number(n, v, "float") for v in value)
    if low > high:
        raise ConfigError(f"{n.flag} {low},{high}: MIN is larger than MAX", f"write e.g. {n.flag} 0.9,1.1")
    return (low, high)


def _boolean(n: Named, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"{n.flag} should be true or false, got {value!r}", f"write e.g. {n.name}: true")


def _size(n: Named, value):
    text = str(value).strip().lower()
    if text in n.option.words:
        return text
    try:
        return _number(n, value, "int")
    except ConfigError:
        raise ConfigError(f"{n.flag} {value!r} is not a whole number or {' or '.join(n.option.words)}",
                          f"write e.g. {n.flag} {n.option.example or 32}") from None


def typed(n: Named, value):
    """``value`` (a flag's text or any YAML value) as the option's type; None stays None."""
    kind = n.option.kind
    if value is None:
        return None
    if kind == "bool":
        return _boolean(n, value)
    if kind in ("int", "float"):
        return _number(n, value, kind)
    if kind == "range":
        return _pair(n, value)
    if kind == "size":
        return _size(n, value)
    if kind == "dict":
        if not isinstance(value, dict):
            raise ConfigError(f"{n.name} should be a mapping, got {value!r}", f"write e.g. {n.name}: {{C: 10}}")
        return dict(value)
    if isinstance(value, Path):
        return str(value)
    if not isinstance(value, str) and n.name != "data":
        raise ConfigError(f"{n.flag} should be text, got {value!r}", f"write e.g. {n.flag} {n.default}")
    return value


def check(n: Named, value) -> None:
    """Refuse a typed value outside the option's choices or range."""
    option = n.option
    if value is None or option.kind in ("dict", "bool", "str") and not option.choices:
        return
    if option.kind == "range":
        for v in value:
            _check_range(n, v)
        return
    if option.kind == "size" and value in option.words:
        return
    if option.choices and value not in option.choices:
        shown = ", ".join(str(c) for c in (*option.words, *option.choices))
        raise ConfigError(f"unknown {n.flag} {value!r}", f"use one of {shown}")
    if option.kind in ("int", "float", "size"):
        _check_range(n, value)


def _check_range(n: Named, value: float) -> None:
    low, high, option = n.option.low, n.option.high, n.option
    if low is not None and (value <= low if option.low_open else value < low):
        span = f"{'above' if option.low_open else 'at least'} {_fmt(low)}"
    elif high is not None and (value >= high if option.high_open else value > high):
        span = f"{'below' if option.high_open else 'at most'} {_fmt(high)}"
    else:
        return
    raise ConfigError(f"{n.flag} must be {span}, got {_fmt(value)}",
                      f"write e.g. {n.flag} {option.example or _fmt(n.default)}")


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
