"""The fencing check: an append commits only while this node holds every shard it touches.

It runs inside the append's own transaction (the store's ``_fence`` seam, first, before
any row is written), and its lease rows stay share-locked until that transaction ends
(a takeover's UPDATE waits for it), so "the lease was still ours" and "the events are
in" are one atomic fact. A node frozen past its lease (GC pause, SIGSTOP,
a partition) wakes up to find a higher epoch on its shards and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aionactors.cluster._leases import check_held
from aionactors.cluster._manager import LeaseManager
from aionactors.core.errors import StoreError


class LeaseLost(StoreError):
    """This node does not (or no longer) hold the lease of a shard it tried to append to;
    nothing was written. The shard's owner runs those workflows now: retry through it."""

    code = "unavailable"
    error_type = "LeaseLost"

    def __init__(self, node_id: str, shards: Iterable[int]) -> None:
        self.shards = sorted(shards)
        super().__init__(
            f"node {node_id!r} does not hold the lease of shard(s) {self.shards}:"
            " nothing was appended; the shard's current owner runs its workflows"
        )


def check_fence(cursor: Any, leases: LeaseManager, workflow_ids: set[str]) -> None:
    """Raise LeaseLost unless this node holds, at its epoch, the shard of every workflow."""
    shards = {leases.shard_map.shard_of(workflow_id) for workflow_id in workflow_ids}
    held = leases.held()
    missing = shards - held.keys()
    if missing:
        raise LeaseLost(leases.node_id, missing)
    lost = check_held(cursor, leases.node_id, {shard: held[shard] for shard in shards})
    if lost:
        raise LeaseLost(leases.node_id, lost)
