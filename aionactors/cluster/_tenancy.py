"""Who runs workflows on a PostgreSQL store: one lone engine, or any number of cluster nodes.

A lone engine (``Engine.open(PostgresStore(…))``, ``Engine.open("postgresql://…",
cluster=False)``, ``serve --no-cluster``) executes
every workflow of its store; a second one, or one beside cluster nodes, would execute
the same workflows twice. So every engine on PostgreSQL holds an advisory lock on a
key of its store (its database and schema) for as long as it runs, on a connection of
its own: a lone engine the exclusive lock, a cluster node the shared one. Nodes
coexist; lone vs lone and lone vs node are refused at open (:class:`DatabaseInUse`).
The lock is session-level: it goes when the engine closes its connection, and at once
when its process dies (PostgreSQL ends the session).
"""

from __future__ import annotations

import hashlib
from typing import Any

from aionactors.core.errors import InvalidState


class DatabaseInUse(InvalidState):
    """Another engine runs on this PostgreSQL store in a way that excludes this one."""

    error_type = "DatabaseInUse"


def tenancy_key(schema: str) -> int:
    """The store's advisory lock: a signed 64-bit hash of its schema (advisory locks are
    per database; a store is one schema of a database)."""
    digest = hashlib.blake2b(f"aionactors-engines:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class DatabaseClaim:
    """The held lock; :meth:`release` closes its connection (which drops the lock)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def release(self) -> None:
        self._conn.close()


_REFUSALS = {
    False: (
        "another engine or cluster node runs on this PostgreSQL database{where}: a lone"
        " engine (Engine.open on a store instance or with cluster=False, serve --no-cluster)"
        " must be the only one. Run every process as a cluster node (Engine.open on the"
        " postgresql:// URL, or serve without --no-cluster), or stop the other process"
    ),
    True: (
        "a lone engine (Engine.open on a store instance or with cluster=False, or serve"
        " --no-cluster) runs on this PostgreSQL database{where}: a cluster node cannot share"
        " it. Stop it and run it as a cluster node (Engine.open on the postgresql:// URL, or"
        " serve without --no-cluster)"
    ),
}


def claim_database(store: Any) -> DatabaseClaim | None:
    """Take ``store``'s lock (shared for a cluster node's fenced store, else exclusive);
    None for a store that is not PostgreSQL. DatabaseInUse if the lock is held against us."""
    from aionactors.store.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return None
    import psycopg

    shared = bool(getattr(store, "cluster_member", False))
    params = {
        k: v for k, v in store._datastore.pool.kwargs.items() if k not in ("row_factory", "options")
    }
    schema: str = store._schema
    conn = psycopg.connect(autocommit=True, connect_timeout=5, **params)
    take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    try:
        (taken,) = conn.execute(f"SELECT {take}(%s)", (tenancy_key(schema),)).fetchone()
    except BaseException:
        conn.close()
        raise
    if not taken:
        conn.close()
        where = f" (schema {schema!r})" if schema else ""
        raise DatabaseInUse(_REFUSALS[shared].format(where=where))
    return DatabaseClaim(conn)
