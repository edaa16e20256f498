"""Membership: the nodes table. A node is live while its heartbeat is younger than a lease.

Times are the database's (``now()``), so nodes with skewed clocks still agree on who
is alive and on when a lease runs out.
"""

from __future__ import annotations

from typing import Any

from aionactors.cluster._models import NodeInfo


def heartbeat(conn: Any, node_id: str, advertise_url: str) -> None:
    """Insert this node or refresh its heartbeat (and its address, which may change)."""
    conn.execute(
        "INSERT INTO aion_nodes (node_id, advertise_url, started_at, last_heartbeat)"
        " VALUES (%s, %s, now(), now()) ON CONFLICT (node_id) DO UPDATE SET"
        " advertise_url = excluded.advertise_url, last_heartbeat = excluded.last_heartbeat",
        (node_id, advertise_url),
    )


def live_node_ids(conn: Any, lease_seconds: float) -> list[str]:
    """Nodes heard from within a lease, sorted: every node ranks them the same way."""
    rows = conn.execute(
        "SELECT node_id FROM aion_nodes"
        " WHERE last_heartbeat > now() - make_interval(secs => %s) ORDER BY node_id",
        (lease_seconds,),
    ).fetchall()
    return [str(row["node_id"]) for row in rows]


def forget_silent(conn: Any, forget_seconds: float) -> None:
    conn.execute(
        "DELETE FROM aion_nodes WHERE last_heartbeat < now() - make_interval(secs => %s)",
        (forget_seconds,),
    )


def leave(conn: Any, node_id: str) -> None:
    """A clean exit: the others stop counting this node at once."""
    conn.execute("DELETE FROM aion_nodes WHERE node_id = %s", (node_id,))


def list_nodes(conn: Any) -> list[NodeInfo]:
    rows = conn.execute(
        "SELECT node_id, advertise_url, started_at, last_heartbeat FROM aion_nodes ORDER BY node_id"
    ).fetchall()
    return [NodeInfo.model_validate(row) for row in rows]


def fair_share(shard_count: int, live: list[str], node_id: str) -> int:
    """This node's share: ``count // n``, one more for the first ``count % n`` by rank."""
    if node_id not in live:
        live = sorted([*live, node_id])
    base, extra = divmod(shard_count, len(live))
    return base + (1 if live.index(node_id) < extra else 0)
