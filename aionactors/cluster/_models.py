"""What crosses a boundary: a node's row, a shard's lease, the cluster as one node sees it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NodeInfo(BaseModel):
    """A row of the nodes table."""

    model_config = ConfigDict(frozen=True)
    node_id: str
    advertise_url: str
    started_at: datetime
    last_heartbeat: datetime


class ShardLease(BaseModel):
    """A row of the leases table: ``owner`` is None for a shard nobody holds."""

    model_config = ConfigDict(frozen=True)
    shard: int
    owner: str | None
    epoch: int
    expires_at: datetime


class ClusterView(BaseModel):
    """Nodes and leases as read in one transaction (by a tick, or by GET /cluster)."""

    model_config = ConfigDict(frozen=True)
    node_id: str
    shard_count: int
    nodes: list[NodeInfo]
    leases: list[ShardLease]
    read_at: datetime

    def owned_by(self, node_id: str) -> list[int]:
        """Shards whose lease this node holds and that have not expired."""
        return [
            lease.shard
            for lease in self.leases
            if lease.owner == node_id and lease.expires_at > self.read_at
        ]

    def owner_of(self, shard: int) -> NodeInfo | None:
        """The node holding a live lease on ``shard`` (None while it is free or expired)."""
        lease = self.leases[shard] if 0 <= shard < len(self.leases) else None
        if lease is None or lease.owner is None or lease.expires_at <= self.read_at:
            return None
        return next((node for node in self.nodes if node.node_id == lease.owner), None)
