"""PostgresStore: the shared store several nodes can use, on eventsourcing's PostgreSQL recorder.

Appends take the recorder's table lock before the head checks, so global commit
order equals notification-id order and concurrent nodes serialise cleanly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import RecordConflictError, StoredEvent

from aionactors.core.errors import StoreError
from aionactors.store.sql import EVENTS_TABLE, SqlEventStore, storage_errors

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PostgresStore(SqlEventStore):
    """An EventStore in a PostgreSQL database (tables created if missing).

    >>> store = PostgresStore("postgresql://app@127.0.0.1:5432/orders")  # doctest: +SKIP
    """

    placeholder: ClassVar[str] = "%s"
    blob_type: ClassVar[str] = "BYTEA"
    clustered: ClassVar[str] = ""  # a PostgreSQL table is a heap with separate indexes
    position_column: ClassVar[str] = "notification_id"

    def __init__(
        self, dsn: str, *, schema: str = "", pool_size: int = 4, lock_timeout: float = 10.0
    ) -> None:
        """``lock_timeout``: seconds any statement waits for a lock (PostgreSQL's
        ``lock_timeout``, set on every connection) before failing as StoreUnavailable."""
        try:
            from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
            from psycopg.conninfo import conninfo_to_dict
            from psycopg.errors import UniqueViolation
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StoreError(
                "PostgreSQL support needs the 'postgres' extra: pip install 'aionactors[postgres]'"
            ) from exc
        try:
            params = conninfo_to_dict(dsn)
        except Exception as exc:
            raise StoreError(f"invalid PostgreSQL DSN {dsn!r}: {exc}") from exc
        if schema and not _IDENTIFIER.fullmatch(schema):
            raise StoreError(f"PostgreSQL schema {schema!r} must be a plain SQL identifier")
        _check_reachable(params)
        self._unique_violation: type[Exception] = UniqueViolation
        self._schema = schema
        self._datastore = PostgresDatastore(
            dbname=str(params.get("dbname", "postgres")),
            host=str(params.get("host", "127.0.0.1")),
            port=str(params.get("port", 5432)),
            user=str(params.get("user", "postgres")),
            password=str(params.get("password", "")),
            schema=schema,
            originator_id_type="text",
            pool_size=pool_size,
            max_overflow=pool_size,
            lock_timeout=lock_timeout,  # type: ignore[arg-type]  (appends: SET LOCAL '<n>s')
        )
        # Every other statement too (timers, visibility rows), at no cost per transaction:
        # the server applies it when the pool connects. So is the schema, for the reads
        # that run outside a transaction (SET LOCAL would not last past their statement).
        options = f"-c lock_timeout={round(lock_timeout * 1000)}"
        if schema:
            options += f' -c search_path="{schema}"'
        self._datastore.pool.kwargs["options"] = options
        self._pg_recorder = PostgresApplicationRecorder(
            self._datastore, events_table_name=EVENTS_TABLE
        )
        # The aggregate recorder's insert alone: the application recorder's own takes the
        # table lock and notifies first, which _insert_stored does itself.
        self._insert_events = super(PostgresApplicationRecorder, self._pg_recorder)
        with storage_errors("connecting to PostgreSQL"):
            super().__init__(self._pg_recorder)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        # The schema, where one is set, is the connections' search_path (see __init__).
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        # The pool's connections are in autocommit mode, and each of our reads is one
        # SELECT, its own consistent snapshot: no BEGIN and ROLLBACK round trips around
        # it, and no ROLLBACK emptying psycopg's prepared statements (a DEALLOCATE ALL
        # that had the appends' statements planned again).
        with self._datastore.cursor() as cursor:
            yield cursor

    def _lock_for_append(self, cursor: Any) -> None:
        self._pg_recorder._lock_table(cursor)
        self._pg_recorder._notify_channel(cursor)

    def _insert_stored(self, cursor: Any, stored: list[StoredEvent]) -> list[int]:
        # The table lock and NOTIFY once, then the insert, which ends in RETURNING
        # notification_id (the application recorder's own insert would lock again).
        self._lock_for_append(cursor)
        try:
            self._insert_events._insert_stored_events(cursor, stored)
        except self._unique_violation as exc:
            # A writer that read the same head committed first (heads are read before
            # the table lock): the caller retries each request alone.
            raise RecordConflictError(str(exc)) from exc
        return [int(row["notification_id"]) for row in cursor.fetchall()]

    def close(self) -> None:
        self._datastore.close()


def _check_reachable(params: dict[str, Any]) -> None:
    """One direct connection first: the pool's retries would hide why it fails (a database
    that does not exist, a refused connection, bad credentials) behind a timeout."""
    import psycopg

    try:
        psycopg.connect(connect_timeout=5, **params).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot connect to PostgreSQL: {reason}") from None
