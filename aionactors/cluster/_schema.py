"""The cluster's tables, created once, and the connection every cluster part uses.

Three tables beside the store's own, in the same database: ``aion_cluster`` (one
row: the shard count fixed when the cluster was created), ``aion_nodes``
(membership) and ``aion_shard_leases`` (one row per shard, created with the
cluster). Creation runs under a transaction-scoped advisory lock because
PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against a concurrent twin.
"""

from __future__ import annotations

import re
from typing import Any

from aionactors.core.errors import StoreError

_SCHEMA_LOCK = 0x61696F6E_636C7573  # "aionclus": serialises table creation across nodes
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_DDL = (
    "CREATE TABLE IF NOT EXISTS aion_cluster ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), shard_count INTEGER NOT NULL,"
    " created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS aion_nodes ("
    " node_id TEXT PRIMARY KEY, advertise_url TEXT NOT NULL,"
    " started_at TIMESTAMPTZ NOT NULL, last_heartbeat TIMESTAMPTZ NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aion_shard_leases ("
    " shard INTEGER PRIMARY KEY, owner TEXT, epoch BIGINT NOT NULL DEFAULT 0,"
    " expires_at TIMESTAMPTZ NOT NULL DEFAULT 'epoch')",
)


def connect(dsn: str, schema: str = "") -> Any:
    """A psycopg connection (dict rows, explicit transactions) into ``schema`` if given."""
    import psycopg
    from psycopg.rows import dict_row

    if schema and not _IDENTIFIER.fullmatch(schema):
        raise ValueError(f"PostgreSQL schema {schema!r} must be a plain SQL identifier")
    options = f"-c search_path={schema}" if schema else ""
    try:
        return psycopg.connect(dsn, row_factory=dict_row, connect_timeout=5, options=options)
    except psycopg.OperationalError as exc:  # no server, no database, bad credentials
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot connect to PostgreSQL: {reason}") from None


def ensure_cluster(conn: Any, shard_count: int) -> int:
    """Create the tables and the shard rows if missing; return the stored shard count.

    The first node fixes the count; a later node asking for another count gets the
    stored one (shards cannot be re-cut without moving every workflow).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in _DDL:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO aion_cluster (id, shard_count) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
            (shard_count,),
        )
        row = conn.execute("SELECT shard_count FROM aion_cluster WHERE id = 1").fetchone()
        stored = int(row["shard_count"])
        conn.execute(
            "INSERT INTO aion_shard_leases (shard)"
            " SELECT generate_series(0, %s - 1) ON CONFLICT (shard) DO NOTHING",
            (stored,),
        )
    return stored
