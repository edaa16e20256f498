"""How a cluster node is told who it is and how fast leases move."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LeaseTuning(BaseModel):
    """How many shards, and how long leases last: the same for every node of a cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    shard_count: int = Field(64, ge=1, le=65536)
    """Fixed when the cluster is first created (stored in the database); later nodes read it."""
    lease_seconds: float = Field(3.0, gt=0)
    """A lease (and a node's liveness) lasts this long after its last renewal."""
    renew_seconds: float = Field(0.5, gt=0)
    """Between two ticks of the lease manager: heartbeat, renew, acquire, rebalance."""
    forget_seconds: float = Field(300.0, gt=0)
    """A node silent this long is removed from the nodes table (GET /cluster stops listing it)."""

    @model_validator(mode="after")
    def _renew_well_inside_lease(self) -> LeaseTuning:
        if self.renew_seconds * 2 > self.lease_seconds:
            raise ValueError(
                f"renew_seconds ({self.renew_seconds}) must be at most half of lease_seconds"
                f" ({self.lease_seconds}), or a single slow tick loses every lease"
            )
        return self


class ClusterSettings(LeaseTuning):
    """One node's cluster settings.

    >>> ClusterSettings(node_id="a", advertise_url="http://10.0.0.5:8080").lease_seconds
    3.0
    """

    node_id: str = Field(..., min_length=1, max_length=255)
    advertise_url: str = Field("", description="how the other nodes reach this one over HTTP")
    schema_name: str = Field("", description="PostgreSQL schema of the cluster tables")
