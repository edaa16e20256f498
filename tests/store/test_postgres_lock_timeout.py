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
from contextlib import contextmanager
from typing import Any

import pytest

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store.conformance import HistoryBuilder, append_all
from aionactors.store.outage import StoreUnavailable
from aionactors.store.postgres import PostgresStore
from aionactors.store.sql import EVENTS_TABLE
from tests.transports import sample_workflows as s
from tests.transports.support import Stream
from transports import ServerConfig, create_app

pytestmark = pytest.mark.postgres

LOCK_TIMEOUT = 1.0
"""Long beside the monitor's polls, so none of its waits goes unseen."""
POLL_SECONDS = 0.02


class LockWaits:
    """Counts the statements of the database seen waiting on a lock (backend, start)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self.seen: set[tuple[int, Any]] = set()

    @contextmanager
    def watching(self) -> Iterator[None]:
        import psycopg

        self.seen.clear()
        stop = threading.Event()
        with psycopg.connect(self._dsn, autocommit=True) as conn:

            def watch() -> None:
                while not stop.wait(POLL_SECONDS):
                    rows = conn.execute(
                        "SELECT pid, query_start FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    ).fetchall()
                    self.seen.update((pid, start) for pid, start in rows)

            thread = threading.Thread(target=watch, daemon=True)
            thread.start()
            try:
                yield
            finally:
                stop.set()
                thread.join()

    def during(self, read: Callable[[], Any]) -> int:
        """How many lock waits ``read`` went through before it failed as unavailable."""
        with self.watching(), pytest.raises(StoreUnavailable, match="lock timeout"):
            read()
        return len(self.seen)


@contextmanager
def table_locked(dsn: str, schema: str) -> Iterator[None]:
    """Another session holds the events table in ACCESS EXCLUSIVE mode, in an open
    transaction, until the block ends."""
    import psycopg

    holder = psycopg.connect(dsn)
    try:
        holder.execute(f'LOCK TABLE "{schema}".{EVENTS_TABLE} IN ACCESS EXCLUSIVE MODE')
        yield
    finally:
        holder.rollback()  # the lock ends with its transaction
        holder.close()


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
    builder = HistoryBuilder("wf")
    append_all(store, builder, [builder.started(), builder.signal()])
    before = {name: read() for name, read in reads(store).items()}
    waits = LockWaits(postgres_dsn)
    with table_locked(postgres_dsn, postgres_schema):
        counted = {name: waits.during(read) for name, read in reads(store).items()}
    assert counted == dict.fromkeys(counted, 1)  # one wait of lock_timeout each, no retries
    assert {name: read() for name, read in reads(store).items()} == before  # served again
    assert len(before["read_history"]) == 2 and before["head_position"] >= 2


async def test_a_stream_resumed_under_a_held_lock_is_unavailable_after_one_wait(
    aiohttp_client: Any, store: PostgresStore, postgres_dsn: str, postgres_schema: str
) -> None:
    engine = Engine.open(store, workflows=s.WORKFLOWS, activities=s.ACTIVITIES,
                         clock=ManualClock())  # fmt: skip
    try:
        client = await aiohttp_client(create_app(engine, ServerConfig()))
        handle = await engine.start_workflow_async("greeter", "x", workflow_id="before")
        await engine.result_async(handle.workflow_id, timeout=10)
        resume = {"firehose": {"namespace": "default", "resume_from_position": 1}}
        waits = LockWaits(postgres_dsn)
        with table_locked(postgres_dsn, postgres_schema), waits.watching():
            stream = Stream(await client.ws_connect("/events/stream"))
            await stream.subscribe(resume)  # reads the head of the commit log first
            error = await stream.expect_error("unavailable")
        assert "lock timeout" in error["message"] and len(waits.seen) == 1
        stream = Stream(await client.ws_connect("/events/stream"))
        await stream.subscribe(resume)  # released: served again, from the first event
        frame = await stream.next_event()
        assert (frame["position"], frame["event"]["workflow_id"]) == (1, "before")
        await stream.ws.close()
    finally:
        engine.shutdown()
