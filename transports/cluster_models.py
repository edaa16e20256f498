"""GET /cluster's body: the nodes of the cluster as this node sees them."""

from __future__ import annotations

from pydantic import Field

from aionactors.core.timestamps import UtcDatetime
from transports.models import Body, Namespace, Reply, WorkflowIdField


class ClusterNodeReply(Reply):
    node_id: str
    address: str = Field(description="the node's advertise URL: where the others forward to")
    owned_shards: list[int] = Field(description="shards this node holds a live lease on")
    last_seen: UtcDatetime = Field(description="the node's last heartbeat")


class ChildEndedRequest(Body):
    """A child's node to its parent's owner (``workflow_id`` is the parent): the child
    ended; the owner reads how from the store and tells the parent."""

    namespace: Namespace = "default"
    workflow_id: WorkflowIdField
    child_workflow_id: WorkflowIdField


class ClusterReply(Reply):
    node_id: str = Field(description="the node that answered")
    shard_count: int = Field(description="workflows map onto this many shards (1 off-cluster)")
    nodes: list[ClusterNodeReply]
