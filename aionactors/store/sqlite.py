"""SQLiteStore: the embedded default. One database file holds events, timers, visibility
and packages; eventsourcing's SQLite recorder runs it in WAL mode with every commit fsynced."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from aionactors.core.errors import StoreError
from aionactors.store.outage import StoreUnavailable, is_outage
from aionactors.store.sql import EVENTS_TABLE, SqlEventStore


class SQLiteStore(SqlEventStore):
    """An EventStore in one SQLite file (created if missing).

    >>> store = SQLiteStore("orders.db")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, pool_size: int = 8, lock_timeout: float = 10.0) -> None:
        """``lock_timeout``: seconds a write waits on a locked database (SQLite's busy
        timeout) before failing as :class:`StoreUnavailable`."""
        self.path = Path(path)
        self._datastore = SQLiteDatastore(
            str(self.path),
            originator_id_type="text",
            pool_size=pool_size,
            max_overflow=4 * pool_size,
            lock_timeout=lock_timeout,  # type: ignore[arg-type]  (sqlite3 takes a float)
        )
        super().__init__(SQLiteApplicationRecorder(self._datastore, EVENTS_TABLE))

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self._datastore.transaction(commit=commit)

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        # A lone SELECT in autocommit mode is its own consistent snapshot: no BEGIN and
        # ROLLBACK round trips around it.
        with self._datastore.get_connection(commit=False) as connection:
            try:
                yield connection.cursor()
            except sqlite3.Error as exc:
                if is_outage(exc):
                    raise StoreUnavailable(f"reading failed, store unavailable: {exc}") from exc
                raise StoreError(f"reading failed: {exc}") from exc

    def _insert_stored(self, cursor: Any, stored: list[StoredEvent]) -> list[int]:
        # One executemany (the recorder's own statement) instead of a call per event.
        statement = self._recorder.insert_events_statement  # type: ignore[attr-defined]
        cursor.executemany(
            statement, [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored]
        )
        # The transaction holds the write lock from its first insert, and a rowid table
        # numbers new rows max(rowid) + 1: these rows got the last len(stored) ids.
        cursor.execute(f"SELECT MAX(rowid) FROM {EVENTS_TABLE}")
        last = int(cursor.fetchone()[0])
        return list(range(last - len(stored) + 1, last + 1))

    def close(self) -> None:
        self._datastore.close()
