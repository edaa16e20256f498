"""A cluster of engines on one PostgreSQL database: shards, leases, fencing.

Workflows map to shards by a stable hash of their id (:class:`ShardMap`); each
node's :class:`LeaseManager` leases a fair share of the shards, renews them by
heartbeat and rebalances when nodes join or leave; a
:class:`FencedPostgresStore` refuses (:class:`LeaseLost`) any append to a shard
the node does not hold at its current epoch, in the append's own transaction. A node
holds an advisory lock named by its id for as long as its database session lives, so
the shards of a node whose process died are taken at once, not after their lease.
Every engine on PostgreSQL holds an engine lock (exclusive for a lone engine, shared
for a node), so a lone engine never runs beside another engine (:class:`DatabaseInUse`).
PostgreSQL is the coordinator: row locks, advisory locks, transactions.
"""

from aionactors.cluster._fence import LeaseLost, check_fence
from aionactors.cluster._follower import CommitFollower
from aionactors.cluster._liveness import NodeIdInUse
from aionactors.cluster._manager import LeaseManager, read_view
from aionactors.cluster._models import ClusterView, NodeInfo, ShardLease
from aionactors.cluster._node import ClusterNode, NotOwner
from aionactors.cluster._settings import ClusterSettings, LeaseTuning
from aionactors.cluster._shards import ShardMap
from aionactors.cluster._store import FencedPostgresStore
from aionactors.cluster._tenancy import DatabaseInUse

__all__ = [
    "ClusterNode",
    "ClusterSettings",
    "ClusterView",
    "CommitFollower",
    "DatabaseInUse",
    "FencedPostgresStore",
    "LeaseLost",
    "LeaseManager",
    "LeaseTuning",
    "NodeIdInUse",
    "NodeInfo",
    "NotOwner",
    "ShardLease",
    "ShardMap",
    "check_fence",
    "read_view",
]
