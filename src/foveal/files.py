"""Small file helpers: atomic writes and strict JSON."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write via a temporary sibling and rename, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; these are ordinary shareable files
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _clean(value):
    """NaN/inf become null: strict JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


def to_json(value, indent: int | None = 2) -> str:
    return json.dumps(_clean(value), indent=indent, allow_nan=False) + "\n"


def write_json(path: Path, value) -> Path:
    return atomic_write_text(path, to_json(value))


@contextlib.contextmanager
def sqlite_transaction(database: Path, timeout: float = 30.0):
    """A connection to a SQLite file that commits on success, rolls back on error, and always closes."""
    import sqlite3

    db = sqlite3.connect(database, timeout=timeout)
    try:
        with db:
            yield db
    finally:
        db.close()
