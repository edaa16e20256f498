"""SQLiteStore: the embedded default. One database file holds events, timers, visibility
and packages; eventsourcing's SQLite recorder runs it in WAL mode with every commit fsynced."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from aionactors.core.errors import StoreError
from aionactors.store.outage import StoreUnavailable, is_outage
from aionactors.store.sql import EVENTS_TABLE, SqlEventStore

_ROWS_PER_INSERT = 64
"""Rows per multi-row INSERT: a few statement texts cover every append (each text is a
prepared statement in sqlite3's cache), far below SQLite's bound-parameter limit."""


@lru_cache(maxsize=_ROWS_PER_INSERT)
def _insert_rows(count: int) -> str:
    """The INSERT of ``count`` rows into the events table (eventsourcing's column order)."""
    return f"INSERT INTO {EVENTS_TABLE} VALUES " + ", ".join(["(?, ?, ?, ?)"] * count)


_POOL_WAIT = 60.0
"""Seconds a reader may wait for a pooled connection before its read fails."""


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
            # A thread waiting for a connection while all are in use is load, not an
            # outage: eventsourcing's 5 s default failed reads as StoreUnavailable when 64
            # callers rehydrated 50,000 workflows at once (benchmarks.recovery).
            pool_timeout=max(_POOL_WAIT, lock_timeout),
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
        # Multi-row INSERTs instead of executemany + SELECT MAX(rowid): one statement per
        # append, and its cursor's lastrowid is the last row's id. The transaction holds
        # the write lock from its first insert and a rowid table numbers new rows
        # max(rowid) + 1, so each statement's rows got the ids up to that one.
        positions: list[int] = []
        for start in range(0, len(stored), _ROWS_PER_INSERT):
            chunk = stored[start : start + _ROWS_PER_INSERT]
            cursor.execute(
                _insert_rows(len(chunk)),
                [
                    value
                    for s in chunk
                    for value in (s.originator_id, s.originator_version, s.topic, s.state)
                ],
            )
            last = int(cursor.lastrowid)
            positions.extend(range(last - len(chunk) + 1, last + 1))
        return positions

    def close(self) -> None:
        self._datastore.close()
