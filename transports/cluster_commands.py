"""``aionactors cluster status``: the nodes of a cluster, their shards and last heartbeat.

Any node answers for the whole cluster (as of its last lease tick).
"""

from __future__ import annotations

import argparse
from typing import Any

from transports.client import AionClient
from transports.commands import add_client_options


def add_cluster_commands(commands: Any) -> None:
    """Register ``cluster status`` on the top-level subparsers."""
    cluster = commands.add_parser("cluster", help="the nodes of a cluster and their shards")
    add_client_options(cluster, nested=True)
    verbs = cluster.add_subparsers(dest="verb", required=True)
    status = verbs.add_parser("status", help="nodes, owned shards, last heartbeat")
    add_client_options(status, nested=True)
    status.set_defaults(call=_status)


async def _status(args: argparse.Namespace, client: AionClient) -> Any:
    answer = await client.cluster()
    if args.as_json:
        return answer
    return {
        "nodes": [
            {
                "node_id": node["node_id"],
                "address": node["address"],
                "shards": len(node["owned_shards"]),
                "owned_shards": shard_ranges(node["owned_shards"]),
                "last_seen": node["last_seen"],
                "answered": "*" if node["node_id"] == answer["node_id"] else "",
            }
            for node in answer["nodes"]
        ]
    }


def shard_ranges(shards: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` → ``0-2,5,7-8``."""
    runs: list[list[int]] = []
    for shard in sorted(shards):
        if runs and runs[-1][1] == shard - 1:
            runs[-1][1] = shard
        else:
            runs.append([shard, shard])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
