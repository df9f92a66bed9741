"""Feedback from the page: SQLite rows plus one stored copy of each image, named by its SHA-256.

Layout of ``--feedback-dir``::

    feedback.sqlite3      one row per judgement (image sha256, model, predicted, label, time)
    images/<sha256>.<ext> the uploaded bytes as sent, extension from the content

The client's file name is never used on disk.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from foveal.errors import DataError
from foveal.files import atomic_write_bytes, sqlite_transaction

DATABASE = "feedback.sqlite3"
IMAGES = "images"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    model TEXT NOT NULL,
    bundle TEXT NOT NULL,
    task TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    image_file TEXT NOT NULL,
    predicted TEXT NOT NULL,
    label TEXT NOT NULL,
    correct INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_image ON feedback (image_sha256);
"""
COLUMNS = ("id", "created", "model", "bundle", "task", "image_sha256", "image_file", "predicted", "label", "correct")


class FeedbackStore:
    """Append-only feedback in ``folder``; safe to use from several threads (one connection per call)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.database = self.folder / DATABASE
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @classmethod
    def open_existing(cls, folder: Path) -> "FeedbackStore":
        """A store that must already exist (for export): a wrong folder is an error, not a new empty store."""
        if not (Path(folder) / DATABASE).is_file():
            raise DataError(f"{folder} holds no {DATABASE}", "give the folder passed to `foveal serve --feedback-dir`")
        return cls(folder)

    def _connect(self):
        return sqlite_transaction(self.database, timeout=10)

    def add(self, *, data: bytes, extension: str, model: str, bundle: str, task: str,
            predicted, label) -> dict:
        """Store the image (once per content) and one row; returns the row."""
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{IMAGES}/{digest}.{extension}"
        target = self.folder / relative
        if not target.is_file():
            atomic_write_bytes(target, data)
        row = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "model": model,
               "bundle": bundle, "task": task, "image_sha256": digest, "image_file": relative,
               "predicted": json.dumps(predicted), "label": json.dumps(label), "correct": int(predicted == label)}
        with self._connect() as db:
            cursor = db.execute(f"INSERT INTO feedback ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                tuple(row.values()))
            row["id"] = cursor.lastrowid
        return _decoded(row)

    def rows(self, limit: int | None = None, model: str | None = None) -> list[dict]:
        """Rows, newest first (``limit`` of them), optionally of one model."""
        query = f"SELECT {', '.join(COLUMNS)} FROM feedback"
        args: list = []
        if model is not None:
            query += " WHERE model = ?"
            args.append(model)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += " LIMIT ?"
            args.append(int(limit))
        with self._connect() as db:
            return [_decoded(dict(zip(COLUMNS, values))) for values in db.execute(query, args)]

    def image_path(self, digest: str) -> Path | None:
        """The stored copy of an image by its SHA-256 (looked up, never built from the client's input)."""
        if not SHA256.match(digest):
            return None
        with self._connect() as db:
            found = db.execute("SELECT image_file FROM feedback WHERE image_sha256 = ? LIMIT 1", (digest,)).fetchone()
        if found is None:
            return None
        path = (self.folder / found[0]).resolve()
        return path if path.is_relative_to(self.folder.resolve()) and path.is_file() else None


def _decoded(row: dict) -> dict:
    """Labels back from their JSON text (a class, a leaf path, or a list for multi-label)."""
    return {**row, "predicted": json.loads(row["predicted"]), "label": json.loads(row["label"]),
            "correct": bool(row["correct"])}
