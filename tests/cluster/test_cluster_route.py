"""GET /cluster off-cluster (one node owning everything), in /openapi.json, and the CLI verb."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from aionactors import Engine
from tests.cluster.support import ROOT
from tests.transports.processes import start_server, stop_server
from transports import ServerConfig, create_app


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine.open("memory://", schedules=False)
    yield engine
    engine.shutdown()


async def test_a_lone_server_is_one_node_owning_the_only_shard(aiohttp_client, engine) -> None:
    client = await aiohttp_client(create_app(engine, ServerConfig(port=8123)))
    response = await client.get("/cluster")
    assert response.status == 200
    body = await response.json()
    assert body["node_id"] == "127.0.0.1:8123"
    assert body["shard_count"] == 1
    [node] = body["nodes"]
    assert (node["node_id"], node["address"], node["owned_shards"]) == (
        "127.0.0.1:8123", "http://127.0.0.1:8123", [0],
    )  # fmt: skip
    document = await (await client.get("/openapi.json")).json()
    assert "ClusterReply" in str(document["paths"]["/cluster"]["get"])


async def test_cluster_needs_auth_like_the_other_routes(aiohttp_client, engine) -> None:
    client = await aiohttp_client(create_app(engine, ServerConfig(auth="jwt", jwt_secret="s" * 32)))
    assert (await client.get("/cluster")).status == 401


def test_cluster_status_prints_the_nodes(tmp_path) -> None:
    process, url = start_server(tmp_path / "one.db")
    try:
        shown = subprocess.run(
            [sys.executable, "-m", "aionactors.cli", "cluster", "status", "--server", url],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        stop_server(process)
    assert shown.returncode == 0, shown.stderr
    header, row = shown.stdout.splitlines()
    assert header.split() == ["NODE_ID", "ADDRESS", "SHARDS", "OWNED_SHARDS", "LAST_SEEN",
                              "ANSWERED"]  # fmt: skip
    assert row.split()[2:4] == ["1", "0"] and row.rstrip().endswith("*")
