"""Rich progress bars that the CLI can silence with ``--quiet``."""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("foveal_quiet", default=False)


@contextlib.contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Silence progress bars inside the block."""
    token = _quiet.set(enabled)
    try:
        yield
    finally:
        _quiet.reset(token)


def is_quiet() -> bool:
    return _quiet.get()


def stderr_console() -> Console:
    return Console(file=sys.stderr)


def track(items: Iterable[T], description: str, total: int | None = None, unit_weight=None) -> Iterator[T]:
    """Yield ``items`` while drawing a progress bar on stderr (unless quiet).

    ``unit_weight(item) -> int`` lets one yielded item (a chunk) advance the bar by
    several units; ``total`` is then the number of units.
    """
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if is_quiet() or not sys.stderr.isatty():
        yield from items
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task, unit_weight(item) if unit_weight else 1)


@contextlib.contextmanager
def status(description: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr for steps with no countable progress (unless quiet)."""
    if is_quiet() or not sys.stderr.isatty():
        yield
        return
    with stderr_console().status(description):
        yield


def info(message: str) -> None:
    """One line of information on stderr (unless quiet): what a run did that the user should see."""
    if not is_quiet():
        stderr_console().print(message, highlight=False, markup=False, soft_wrap=True)
