"""Refusals of compression commands (parity, accuracy drop): one error line, exit status 1, nothing written."""

from __future__ import annotations

import contextlib

import typer

from foveal.cli.common import err_console


@contextlib.contextmanager
def refusal_exits_1():
    """Turn a :class:`~foveal.compress.parity.RefusedError` (parity, accuracy drop) into exit status 1."""
    from foveal.compress.parity import RefusedError

    try:
        yield
    except RefusedError as err:
        err_console.print(f"foveal: error: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
