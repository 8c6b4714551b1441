"""The label store of ``voltpeak serve``: one SQLite file in WAL mode, every change its own committed transaction
(``synchronous=FULL``: once the server has answered, the label survives a kill), row per label so that two tabs
editing the same CV add and delete their own rows and never overwrite each other's."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    cycle INTEGER,
    sweep INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    potential REAL NOT NULL,
    current REAL NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('anodic', 'cathodic')),
    origin TEXT NOT NULL DEFAULT 'hand',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_file ON labels (file);
CREATE TABLE IF NOT EXISTS status (
    file TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('todo', 'done', 'skipped')),
    updated REAL NOT NULL
);
"""
LABEL_FIELDS = ("id", "file", "cycle", "sweep", "idx", "potential", "current", "direction", "origin")
STATUSES = ("todo", "done", "skipped")


class LabelStore:
    """Labels and per-file status in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def labels(self, file: str) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT {', '.join(LABEL_FIELDS)} FROM labels WHERE file = ? ORDER BY potential, id",
                              (file,)).fetchall()
        return [dict(zip(LABEL_FIELDS, r)) for r in rows]

    def add(self, file: str, labels: list[dict]) -> list[int]:
        """Insert labels (dicts with cycle, sweep, idx, potential, current, direction, origin) in one transaction;
        a label already at the same sample of the same file is not added twice. Returns the ids (existing or new)."""
        ids = []
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            for lab in labels:
                found = db.execute("SELECT id FROM labels WHERE file = ? AND sweep = ? AND idx = ?",
                                   (file, lab["sweep"], lab["idx"])).fetchone()
                if found:
                    ids.append(found[0])
                    continue
                cur = db.execute(
                    "INSERT INTO labels (file, cycle, sweep, idx, potential, current, direction, origin, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (file, lab.get("cycle"), lab["sweep"], lab["idx"], lab["potential"], lab["current"],
                     lab["direction"], lab.get("origin", "hand"), time.time()))
                ids.append(cur.lastrowid)
            db.execute("COMMIT")
        return ids

    def move(self, file: str, label_id: int, lab: dict) -> bool:
        with closing(self._connect()) as db:
            cur = db.execute("UPDATE labels SET cycle = ?, sweep = ?, idx = ?, potential = ?, current = ?, "
                             "direction = ? WHERE id = ? AND file = ?",
                             (lab.get("cycle"), lab["sweep"], lab["idx"], lab["potential"], lab["current"],
                              lab["direction"], label_id, file))
        return cur.rowcount == 1

    def delete(self, file: str, label_id: int) -> bool:
        with closing(self._connect()) as db:
            cur = db.execute("DELETE FROM labels WHERE id = ? AND file = ?", (label_id, file))
        return cur.rowcount == 1

    def set_status(self, file: str, status: str):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        with closing(self._connect()) as db:
            db.execute("INSERT INTO status (file, status, updated) VALUES (?, ?, ?) "
                       "ON CONFLICT(file) DO UPDATE SET status = excluded.status, updated = excluded.updated",
                       (file, status, time.time()))

    def statuses(self) -> dict[str, str]:
        with closing(self._connect()) as db:
            return dict(db.execute("SELECT file, status FROM status").fetchall())

    def counts(self) -> dict[str, int]:
        with closing(self._connect()) as db:
            return dict(db.execute("SELECT file, COUNT(*) FROM labels GROUP BY file").fetchall())

    def all_labels(self) -> dict[str, list[dict]]:
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT {', '.join(LABEL_FIELDS)} FROM labels ORDER BY file, potential, id").fetchall()
        out: dict[str, list[dict]] = {}
        for r in rows:
            lab = dict(zip(LABEL_FIELDS, r))
            out.setdefault(lab["file"], []).append(lab)
        return out
