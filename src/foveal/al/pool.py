"""An active-learning pool: a folder of copied images, a manifest and a SQLite state.

Layout of ``POOL``::

    pool.json         format, version, task (classes), the data it came from, when
    manifest.csv      one row per image: path (under images/), sha256, source (where it came from)
    images/           copies of the images, named by content hash (the user's data is never touched,
                      and file names — which often hold the label — are not shown to labellers)
    state.sqlite3     items (labelled / unlabelled / skipped, label, round, who, when, queue),
                      rounds (strategy, suggesting bundle, trained bundle, labels, metrics), events

Safe to use from several threads and processes: one SQLite connection per call, changes in
transactions.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from foveal.data.task import Task, task_from_json
from foveal.errors import DataError
from foveal.files import sqlite_transaction

FORMAT = "foveal-al-pool"
VERSION = 1
INFO, MANIFEST, DATABASE, IMAGES = "pool.json", "manifest.csv", "state.sqlite3", "images"
STATES = ("unlabelled", "labelled", "skipped")
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unlabelled' CHECK (status IN ('unlabelled', 'labelled', 'skipped')),
    label TEXT,
    round INTEGER,
    user TEXT,
    labelled_at TEXT,
    queue_round INTEGER,
    queue_rank INTEGER,
    score REAL
);
CREATE INDEX IF NOT EXISTS items_status ON items (status);
CREATE INDEX IF NOT EXISTS items_queue ON items (queue_round, queue_rank);
CREATE TABLE IF NOT EXISTS rounds (
    round INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    strategy TEXT,
    suggested_by TEXT,
    n_queued INTEGER NOT NULL DEFAULT 0,
    bundle TEXT,
    n_labels INTEGER,
    metrics TEXT,
    trained_at TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item INTEGER NOT NULL REFERENCES items (id),
    action TEXT NOT NULL,
    label TEXT,
    user TEXT NOT NULL,
    at TEXT NOT NULL,
    previous TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
);
"""
ITEM_COLUMNS = ("id", "path", "sha256", "source", "status", "label", "round", "user", "labelled_at",
                "queue_round", "queue_rank", "score")
STATE_COLUMNS = ("status", "label", "round", "user", "labelled_at")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Pool:
    """An existing pool folder (see the module docstring); :func:`foveal.al.create.create_pool` makes one."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.database = self.folder / DATABASE
        info_file = self.folder / INFO
        if not info_file.is_file() or not self.database.is_file():
            raise DataError(f"{folder} is not an active-learning pool (no {INFO} and {DATABASE})",
                            "make one with `foveal al init DATA --out POOL`")
        try:
            self.info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read {info_file} ({err})", "the pool is damaged; make it again") from None
        if self.info.get("format") != FORMAT or self.info.get("version", 0) > VERSION:
            raise DataError(f"{info_file} is not a pool this foveal can read", "upgrade foveal or make the pool again")
        self.task: Task = task_from_json(self.info["task"])

    @property
    def classes(self) -> list[str]:
        return list(self.task.classes)

    def connect(self):
        return sqlite_transaction(self.database, timeout=30)

    def image_file(self, relative: str) -> Path:
        """An item's file, resolved under the pool folder (refused if it would leave it)."""
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise DataError(f"pool item {relative!r} points outside {self.folder}",
                            "the pool is damaged; make it again")
        return path

    # ---- reading
    def items(self, where: str = "", args: tuple = ()) -> list[dict]:
        query = f"SELECT {', '.join(ITEM_COLUMNS)} FROM items {where} ORDER BY id"
        with self.connect() as db:
            return [dict(zip(ITEM_COLUMNS, row)) for row in db.execute(query, args)]

    def item(self, item_id: int) -> dict | None:
        found = self.items("WHERE id = ?", (int(item_id),))
        return found[0] if found else None

    def counts(self) -> dict[str, int]:
        with self.connect() as db:
            found = dict(db.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall())
        return {s: int(found.get(s, 0)) for s in STATES}

    def current_round(self) -> int:
        with self.connect() as db:
            return int(db.execute("SELECT COALESCE(MAX(round), 0) FROM rounds").fetchone()[0])

    def rounds(self) -> list[dict]:
        cols = ("round", "created", "strategy", "suggested_by", "n_queued", "bundle", "n_labels", "metrics",
                "trained_at")
        with self.connect() as db:
            rows = [dict(zip(cols, r)) for r in db.execute(f"SELECT {', '.join(cols)} FROM rounds ORDER BY round")]
        for row in rows:
            row["metrics"] = json.loads(row["metrics"]) if row["metrics"] else None
        return rows

    def queue(self) -> list[dict]:
        """The current round's suggestions that are still unlabelled, in suggested order."""
        query = (f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE status = 'unlabelled' AND "
                 "queue_round = (SELECT MAX(round) FROM rounds) ORDER BY queue_rank, id")
        with self.connect() as db:
            return [dict(zip(ITEM_COLUMNS, row)) for row in db.execute(query)]

    def queue_size(self) -> int:
        with self.connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM items WHERE queue_round = (SELECT MAX(round) FROM rounds)"
                                  ).fetchone()[0])

    # ---- changing
    def start_round(self, strategy: str, bundle: str, picks: list[tuple[int, float]]) -> int:
        """A new round whose queue is ``picks`` (item id, score) in order; earlier queues are dropped."""
        with self.connect() as db:
            r = int(db.execute("SELECT COALESCE(MAX(round), 0) FROM rounds").fetchone()[0]) + 1
            db.execute("INSERT INTO rounds (round, created, strategy, suggested_by, n_queued) VALUES (?, ?, ?, ?, ?)",
                       (r, now(), strategy, bundle, len(picks)))
            db.execute("UPDATE items SET queue_round = NULL, queue_rank = NULL, score = NULL "
                       "WHERE status = 'unlabelled'")
            db.executemany("UPDATE items SET queue_round = ?, queue_rank = ?, score = ? WHERE id = ?",
                           [(r, rank, float(score), int(i)) for rank, (i, score) in enumerate(picks)])
        return r

    def record_training(self, bundle: str, n_labels: int, metrics: dict) -> int:
        """The bundle trained on the labels so far, recorded on the current round."""
        with self.connect() as db:
            r = int(db.execute("SELECT COALESCE(MAX(round), 0) FROM rounds").fetchone()[0])
            db.execute("INSERT OR IGNORE INTO rounds (round, created) VALUES (?, ?)", (r, now()))
            db.execute("UPDATE rounds SET bundle = ?, n_labels = ?, metrics = ?, trained_at = ? WHERE round = ?",
                       (bundle, n_labels, json.dumps(metrics), now(), r))
        return r

    def set_label(self, item_id: int, label: str | None, user: str, action: str = "label") -> dict:
        """Label (or, with ``action="skip"``, skip) one item; the change is an event that can be undone."""
        if action == "label" and label not in self.task.classes:
            raise DataError(f"unknown class {label!r}", f"use one of {', '.join(self.task.classes)}")
        with self.connect() as db:
            row = db.execute(f"SELECT {', '.join(STATE_COLUMNS)}, queue_round FROM items WHERE id = ?",
                             (int(item_id),)).fetchone()
            if row is None:
                raise DataError(f"no pool item {item_id}", "reload the page")
            previous = dict(zip(STATE_COLUMNS, row[:-1]))
            r = row[-1] if row[-1] is not None else int(db.execute(
                "SELECT COALESCE(MAX(round), 0) FROM rounds").fetchone()[0])
            status = "labelled" if action == "label" else "skipped"
            at = now()
            db.execute("UPDATE items SET status = ?, label = ?, round = ?, user = ?, labelled_at = ? WHERE id = ?",
                       (status, label if action == "label" else None, r, user, at, int(item_id)))
            db.execute("INSERT INTO events (item, action, label, user, at, previous) VALUES (?, ?, ?, ?, ?, ?)",
                       (int(item_id), action, label, user, at, json.dumps(previous)))
        return self.item(item_id)

    def undo(self, user: str) -> dict | None:
        """Revert ``user``'s latest label or skip that is not undone yet; returns the item, or None."""
        with self.connect() as db:
            found = db.execute("SELECT id, item, previous FROM events WHERE user = ? AND undone = 0 "
                               "AND action IN ('label', 'skip') ORDER BY id DESC LIMIT 1", (user,)).fetchone()
            if found is None:
                return None
            event, item_id, previous = found
            state = json.loads(previous)
            db.execute(f"UPDATE items SET {', '.join(f'{c} = ?' for c in STATE_COLUMNS)} WHERE id = ?",
                       (*[state[c] for c in STATE_COLUMNS], item_id))
            db.execute("UPDATE events SET undone = 1 WHERE id = ?", (event,))
            db.execute("INSERT INTO events (item, action, label, user, at, previous) VALUES (?, 'undo', NULL, ?, ?, ?)",
                       (item_id, user, now(), json.dumps(state)))
        return self.item(item_id)


def open_pool(folder: str | Path) -> Pool:
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"pool {folder} does not exist", "make one with `foveal al init DATA --out POOL`")
    return Pool(folder)
