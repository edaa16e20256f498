"""Every ``aionactors serve`` on PostgreSQL is a cluster node unless told ``--no-cluster``.

A lone node owns every shard (one-node deployments behave as before); its default node
id is unique per process (HOSTNAME:PORT-PID) and its advertise URL is the bound address.
Two live processes under one explicit node id would both believe they own its shards:
the second is refused at startup.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.cluster.servers import LEASE_ENV, call, serve_process, start_node
from tests.transports.processes import stop_server

pytestmark = pytest.mark.postgres
SHARDS = int(LEASE_ENV["AIONACTORS_LEASES__SHARD_COUNT"])


def test_serve_on_postgres_is_a_node_owning_every_shard(cluster_database: str) -> None:
    process, url = serve_process(cluster_database)
    assert url is not None
    try:
        cluster = call(url, "/cluster")
        port = url.rsplit(":", 1)[1]
        assert cluster["node_id"] == f"{socket.gethostname()}:{port}-{process.pid}"
        [node] = cluster["nodes"]
        assert node["address"] == url
        assert node["owned_shards"] == list(range(cluster["shard_count"]))
        started = call(url, "/workflows/start", {"workflow_type": "TickFlow", "input": 7})
        answer = call(url, "/workflows/result",
                      {"workflow_id": started["workflow_id"], "wait_ms": 30000})  # fmt: skip
        assert (answer["status"], answer["result"]) == ("Completed", 7), answer
    finally:
        stop_server(process)


def test_no_cluster_is_a_server_of_its_own(cluster_database: str) -> None:
    process, url = serve_process(cluster_database, "--no-cluster")
    assert url is not None
    try:
        cluster = call(url, "/cluster")
        assert cluster["shard_count"] == 1
        assert cluster["node_id"] == url.removeprefix("http://")
    finally:
        stop_server(process)


def test_a_second_process_under_a_running_node_id_is_refused(cluster_database: str) -> None:
    first = start_node(cluster_database, "twin")
    try:
        process, url = serve_process(cluster_database, "--node-id", "twin",
                                     stderr=subprocess.PIPE)  # fmt: skip
        _, stderr = process.communicate(timeout=60)
        assert url is None and process.returncode == 2, stderr
        assert "'twin' is held by another running process" in stderr, stderr
        assert call(first.url, "/cluster")["nodes"][0]["node_id"] == "twin"
    finally:
        first.kill()
