"""Which nodes are gone, known from their database session rather than a lease running out.

Each node holds a session-level advisory lock named by its node id on its lease
connection for as long as its process runs. When the process dies (SIGKILL, a crash),
its connection closes and PostgreSQL drops the lock at once: a node whose lock can be
taken is gone, and its shards need not wait for their leases to expire. A frozen node
(SIGSTOP, a long pause) keeps its session and its lock, so its leases expire as before;
so does a machine that vanishes without closing its connections. Taking a gone node's
shards early is as safe as taking expired ones: the takeover bumps the epoch, and the
fence refuses every later append of the old holder.

The lock also refuses a second live process under a node id already running.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from aionactors.core.errors import InvalidState


class NodeIdInUse(InvalidState):
    """Another running process holds this node id: two nodes must never share one."""

    error_type = "NodeIdInUse"


def lock_key(schema: str, node_id: str) -> int:
    """The node's advisory lock: a signed 64-bit hash of its cluster's schema and its id
    (advisory locks are database-wide; a cluster is one schema of a database)."""
    name = f"aionactors-node:{schema}:{node_id}"
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold(conn: Any, schema: str, node_id: str) -> None:
    """Take this node's lock on a fresh connection (NodeIdInUse if a live process has it)."""
    key = lock_key(schema, node_id)
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,)).fetchone()
    if not row["taken"]:
        raise NodeIdInUse(
            f"node id {node_id!r} is held by another running process: give each node its own"
        )


def gone(conn: Any, schema: str, node_ids: Iterable[str]) -> set[str]:
    """The nodes among ``node_ids`` (never this session's own) whose session has ended."""
    ended: set[str] = set()
    for node_id in node_ids:
        key = lock_key(schema, node_id)
        row = conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,)).fetchone()
        if row["taken"]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            ended.add(node_id)
    return ended
