"""Reads under a held table lock fail once, at the store's lock_timeout, on the real
PostgreSQL.

Another session holds ``LOCK TABLE … IN ACCESS EXCLUSIVE MODE`` on the events table in an
open transaction. Every read of the events table must then wait one ``lock_timeout`` and
fail as StoreUnavailable, and work again once the lock is released. eventsourcing's
recorder retries its own reads (the commit log, its head) ten times on an operational
error, so a read through it waited ten lock timeouts plus backoff (100 s and more at the
default 10 s) instead of one. The proof counts the lock waits PostgreSQL reports for the
read's session, not seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aionactors.store.conformance import HistoryBuilder, append_all
from aionactors.store.outage import StoreUnavailable
from aionactors.store.postgres import PostgresStore
from aionactors.store.sql import EVENTS_TABLE

pytestmark = pytest.mark.postgres

LOCK_TIMEOUT = 1.0
"""Long beside the monitor's polls, so none of its waits goes unseen."""
POLL_SECONDS = 0.02


class LockWaits:
    """Every statement of the database seen waiting on a lock: (backend pid, its start)."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self._conn = psycopg.connect(dsn, autocommit=True)
        self.seen: set[tuple[int, Any]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            rows = self._conn.execute(
                "SELECT pid, query_start FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchall()
            self.seen.update((pid, start) for pid, start in rows)

    def during(self, read: Callable[[], Any]) -> int:
        """How many lock waits ``read`` went through before it returned or raised."""
        self.seen.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        try:
            with pytest.raises(StoreUnavailable, match="lock timeout"):
                read()
        finally:
            self._stop.set()
            self._thread.join()
        return len(self.seen)

    def close(self) -> None:
        self._conn.close()


@pytest.fixture
def store(postgres_dsn: str, postgres_schema: str) -> Iterator[PostgresStore]:
    with PostgresStore(postgres_dsn, schema=postgres_schema, lock_timeout=LOCK_TIMEOUT) as store:
        yield store


def reads(store: PostgresStore) -> dict[str, Callable[[], Any]]:
    return {
        "head_seq": lambda: store.head_seq("wf"),
        "read_history": lambda: store.read_history("wf"),
        "read_history_positioned": lambda: store.read_history_positioned("wf", 1),
        "read_histories": lambda: store.read_histories(["wf", "other"]),
        "list_workflow_ids": lambda: store.list_workflow_ids("schedule:"),
        "read_committed": lambda: store.read_committed(0),
        "read_committed_in": lambda: store.read_committed_in("default", 0),
        "head_position": store.head_position,
    }


def test_every_read_under_a_held_lock_fails_once_at_lock_timeout_then_works(
    store: PostgresStore, postgres_dsn: str, postgres_schema: str
) -> None:
    import psycopg

    builder = HistoryBuilder("wf")
    append_all(store, builder, [builder.started(), builder.signal()])
    before = {name: read() for name, read in reads(store).items()}
    holder = psycopg.connect(postgres_dsn)
    waits = LockWaits(postgres_dsn)
    try:
        holder.execute(f'LOCK TABLE "{postgres_schema}".{EVENTS_TABLE} IN ACCESS EXCLUSIVE MODE')
        counted = {name: waits.during(read) for name, read in reads(store).items()}
    finally:
        holder.rollback()  # the lock ends with its transaction
        holder.close()
        waits.close()
    assert counted == dict.fromkeys(counted, 1)  # one wait of lock_timeout each, no retries
    assert {name: read() for name, read in reads(store).items()} == before  # served again
    assert len(before["read_history"]) == 2 and before["head_position"] >= 2
