"""GET /cluster and the cluster's metrics: who the nodes are and which shards each holds.

Off-cluster (no ``cluster = true``), the server is the one node owning the one shard.
"""

from __future__ import annotations

import asyncio
import os
import socket

from aiohttp import web
from prometheus_client import Histogram

from aionactors.cluster import ClusterNode
from aionactors.core.timestamps import utc_now
from aionactors.core.workflow_keys import workflow_key
from transports.cluster_forward import CHILD_ENDED_PATH
from transports.cluster_models import ChildEndedRequest, ClusterNodeReply, ClusterReply
from transports.models import EmptyResponse
from transports.parsing import read_body
from transports.state import RouteSpec, ServerState, identity_of, state_of

# A tick is one short transaction; seconds mean the database (or this process) is starved.
RENEW_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


def local_identity(host: str, port: int) -> tuple[str, str]:
    """A lone server's node id (HOST:PORT) and address (http://HOST:PORT)."""
    return f"{host}:{port}", f"http://{host}:{port}"


def node_identity(host: str, port: int) -> tuple[str, str]:
    """A cluster node's default id, unique per process (HOSTNAME:PORT-PID: two nodes must
    never share one), and advertise URL (the bound address; the host name in place of a
    wildcard host, which the other nodes cannot dial)."""
    hostname = socket.gethostname()
    reachable = hostname if host in _WILDCARD_HOSTS else host
    if ":" in reachable and not reachable.startswith("["):
        reachable = f"[{reachable}]"  # an IPv6 literal in a URL
    return f"{hostname}:{port}-{os.getpid()}", f"http://{reachable}:{port}"


def own_url(host: str, port: int) -> str:
    """How this process reaches its own listener (loopback for a wildcard host)."""
    if host in _WILDCARD_HOSTS:
        return f"http://127.0.0.1:{port}"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def cluster_reply(state: ServerState) -> ClusterReply:
    node = state.cluster
    if node is None:
        node_id, address = state.node_id, state.advertise_url
        lone = ClusterNodeReply(
            node_id=node_id, address=address, owned_shards=[0], last_seen=utc_now()
        )
        return ClusterReply(node_id=node_id, shard_count=1, nodes=[lone])
    view = node.leases.view()
    if view is None:  # pragma: no cover - a node serves only after its first tick
        return ClusterReply(node_id=node.settings.node_id, shard_count=0, nodes=[])
    return ClusterReply(
        node_id=view.node_id,
        shard_count=view.shard_count,
        nodes=[
            ClusterNodeReply(
                node_id=info.node_id,
                address=info.advertise_url,
                owned_shards=view.owned_by(info.node_id),
                last_seen=info.last_heartbeat,
            )
            for info in view.nodes
        ],
    )


async def cluster_status(request: web.Request) -> web.Response:
    """The nodes, their shards and their last heartbeat (as of this node's last tick)."""
    return web.json_response(cluster_reply(state_of(request)).model_dump(mode="json"))


async def child_ended(request: web.Request) -> web.Response:
    """Run on the parent's owner (forwarded there like any workflow route)."""
    body = await read_body(request, ChildEndedRequest)
    identity_of(request).require(body.namespace)
    parent = workflow_key(body.namespace, body.workflow_id)
    child = workflow_key(body.namespace, body.child_workflow_id)
    await asyncio.to_thread(state_of(request).engine.ops.report_child_end, parent, child)
    return web.json_response({})


def cluster_routes(node: bool = False) -> list[RouteSpec]:
    """``GET /cluster``; on a cluster node also the route nodes tell children's ends by."""
    routes = [
        RouteSpec("GET", "/cluster", cluster_status, "Cluster nodes and their shards",
                  ClusterReply)
    ]  # fmt: skip
    if node:
        routes.append(
            RouteSpec("POST", CHILD_ENDED_PATH, child_ended,
                      "Between nodes: a child workflow ended; tell its parent (on its owner)",
                      EmptyResponse, ChildEndedRequest, errors=("invalid_input", "not_found"))
        )  # fmt: skip
    return routes


def install_cluster_metrics(state: ServerState, node: ClusterNode) -> None:
    """Owned shards, adoptions and takeovers read at scrape time; renew latency observed."""
    leases = node.leases
    add = state.metrics.add_gauge
    add("aionactors_cluster_owned_shards", "Shards this node holds a lease on now.",
        lambda: float(len(leases.owned_shards())))  # fmt: skip
    add("aionactors_cluster_shard_adoptions_total", "Shards this node has taken a lease on.",
        lambda: float(leases.adoptions), "counter")  # fmt: skip
    add("aionactors_cluster_takeovers_total",
        "Shards taken from a node whose lease had expired (failovers).",
        lambda: float(leases.takeovers), "counter")  # fmt: skip
    renew = Histogram(
        "aionactors_cluster_lease_renew_seconds",
        "One lease tick (heartbeat, renew, acquire or release) in one transaction.",
        buckets=RENEW_BUCKETS, registry=state.metrics.registry,
    )  # fmt: skip
    leases.add_renew_listener(renew.observe)
