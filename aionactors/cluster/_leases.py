"""Shard leases: renew what this node holds, take free or expired shards, give shards back.

Every taking bumps the shard's epoch, so a lease is named by (shard, epoch): a node
that held epoch 4 and was frozen past its expiry finds epoch 5 (someone else's) and
can no longer renew or append. Rows are locked ``FOR UPDATE`` so two nodes never
take one shard; the fence's ``FOR SHARE`` read conflicts with that lock, so a takeover
waits for an append already checked against the old epoch to commit first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aionactors.cluster._models import ShardLease

Held = dict[int, int]
"""shard → the epoch this node holds it at."""


@dataclass(frozen=True, slots=True)
class Acquired:
    held: Held
    takeovers: int
    """How many of them were taken from another node whose lease had expired."""


def renew(conn: Any, node_id: str, held: Held, lease_seconds: float) -> Held:
    """Extend this node's leases; returns the ones still held at the same epoch."""
    if not held:
        return {}
    # Matching the epoch too: rows left by an earlier process with this node id are not
    # ours to extend; they expire and are taken (with a new epoch) like any other.
    rows = conn.execute(
        "UPDATE aion_shard_leases SET expires_at = now() + make_interval(secs => %s)"
        " WHERE owner = %s AND (shard, epoch) IN"
        " (SELECT * FROM unnest(%s::integer[], %s::bigint[])) RETURNING shard, epoch",
        (lease_seconds, node_id, list(held), list(held.values())),
    ).fetchall()
    return {int(row["shard"]): int(row["epoch"]) for row in rows}


def acquire(
    conn: Any,
    node_id: str,
    count: int,
    lease_seconds: float,
    held: Held,
    gone: Iterable[str] = (),
) -> Acquired:
    """Take up to ``count`` shards nobody holds (free, expired, or of a ``gone`` node),
    lowest first."""
    if count <= 0:
        return Acquired({}, 0)
    rows = conn.execute(
        "SELECT shard, owner FROM aion_shard_leases"
        " WHERE (owner IS NULL OR expires_at <= now() OR owner = ANY(%s))"
        " AND NOT (shard = ANY(%s))"
        " ORDER BY shard LIMIT %s FOR UPDATE SKIP LOCKED",
        (sorted(gone), list(held), count),
    ).fetchall()
    if not rows:
        return Acquired({}, 0)
    takeovers = sum(1 for row in rows if row["owner"] not in (None, node_id))
    taken = conn.execute(
        "UPDATE aion_shard_leases SET owner = %s, epoch = epoch + 1,"
        " expires_at = now() + make_interval(secs => %s)"
        " WHERE shard = ANY(%s) RETURNING shard, epoch",
        (node_id, lease_seconds, [int(row["shard"]) for row in rows]),
    ).fetchall()
    return Acquired({int(row["shard"]): int(row["epoch"]) for row in taken}, takeovers)


def release(conn: Any, node_id: str, shards: Held) -> None:
    """Give shards back now (the next taker need not wait for expiry)."""
    if shards:
        conn.execute(
            "UPDATE aion_shard_leases SET owner = NULL, expires_at = now()"
            " WHERE owner = %s AND (shard, epoch) IN"
            " (SELECT * FROM unnest(%s::integer[], %s::bigint[]))",
            (node_id, list(shards), list(shards.values())),
        )


def live_owners(conn: Any) -> set[str]:
    """Nodes holding a lease that has not expired."""
    rows = conn.execute(
        "SELECT DISTINCT owner FROM aion_shard_leases"
        " WHERE owner IS NOT NULL AND expires_at > now()"
    ).fetchall()
    return {str(row["owner"]) for row in rows}


def read_leases(conn: Any) -> list[ShardLease]:
    rows = conn.execute(
        "SELECT shard, owner, epoch, expires_at FROM aion_shard_leases ORDER BY shard"
    ).fetchall()
    return [ShardLease.model_validate(row) for row in rows]


def check_held(cursor: Any, node_id: str, held: Held) -> list[int]:
    """Inside an append's transaction: the shards of ``held`` this node no longer holds.

    ``FOR SHARE`` keeps a concurrent takeover (``FOR UPDATE``) waiting until this
    transaction ends, so a check that passed stays true until the append commits.
    """
    cursor.execute(
        "SELECT shard, owner, epoch FROM aion_shard_leases WHERE shard = ANY(%s) FOR SHARE",
        (list(held),),
    )
    rows = {int(row["shard"]): row for row in cursor.fetchall()}
    return sorted(
        shard
        for shard, epoch in held.items()
        if (row := rows.get(shard)) is None or row["owner"] != node_id or int(row["epoch"]) != epoch
    )
