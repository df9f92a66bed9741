"""Importing ahead, in a background thread, a library a run will need later.

A deep run first needs scikit-learn (about 1 s to import) at the end of its first epoch, to score
the validation split; imported while that epoch trains, it costs the epoch a little CPU instead of
standing between two epochs.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading


def warm_import(*modules: str) -> None:
    """Start importing ``modules`` (those not imported yet) in a daemon thread; errors are left to the
    later real import, which raises them where they matter."""
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        threading.Thread(target=_import_all, args=(missing,), name="warm-import", daemon=True).start()


def _import_all(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
