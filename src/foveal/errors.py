"""Errors users can act on: each names what went wrong and how to fix it."""

from __future__ import annotations


class FovealError(Exception):
    """Base error. ``str(err)`` is one line: ``<what> — <fix>``."""

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what} — {fix}" if fix else what)


class DataError(FovealError):
    """The data (folder, manifest, image) is not usable as given."""


class DecodeError(DataError):
    """One image file could not be decoded; runs skip it and report the reason."""


class ConfigError(FovealError):
    """An option, config file or argument combination is invalid."""


class BundleError(FovealError):
    """A model bundle is missing, corrupt, or unsafe to load."""


class FovealWarning(UserWarning):
    """Something the user should know and can fix, that does not stop the run (the CLI prints
    ``foveal: warning: …``; Python callers can filter it like any warning)."""


def warn(message: str) -> None:
    import warnings

    warnings.warn(message, FovealWarning, stacklevel=2)
