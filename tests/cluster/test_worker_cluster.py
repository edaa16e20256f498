"""One ``aionactors worker`` given one node's URL serves every node of the cluster.

Activities are dispatched by the node owning the workflow's shard; the worker dials
only node A, learns node B from ``GET /cluster`` and keeps a session with each. Every
workflow (started through either node) completes on that worker. After node B is
SIGKILLed, A adopts its shards and the worker, having dropped B, keeps serving A; once
B is restarted at its address it gets a session again and a share of the work.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.cluster.servers import ServeNode, call, owned, running_nodes, start_node
from tests.cluster.support import wait_for
from tests.workers.processes import MODULE, start_worker, workers

pytestmark = pytest.mark.postgres
SHARDS = 16
WORKFLOWS = 20


@pytest.fixture
def nodes(cluster_database: str) -> Iterator[list[ServeNode]]:
    with running_nodes(cluster_database, ("a", "b"), "--load", MODULE) as started:
        yield started


@pytest.fixture
def worker(nodes: list[ServeNode]) -> Iterator[subprocess.Popen[str]]:
    a = nodes[0]
    wait_for(lambda: all(owned(a.url).get(n.node_id) for n in nodes), 30, "both nodes own shards")
    process = start_worker(a.url, "--refresh-seconds", "0.2")
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def run_all(url: str, prefix: str, count: int, starts: list[str]) -> set[int]:
    """Start ``count`` ``pay`` workflows round-robin through ``starts``; the pids that ran
    their activities, once every one completed."""
    for i in range(count):
        call(starts[i % len(starts)], "/workflows/start",
             {"workflow_type": "pay", "workflow_id": f"{prefix}{i}", "input": i})  # fmt: skip
    pids: set[int] = set()
    for i in range(count):
        reply = call(url, "/workflows/result", {"workflow_id": f"{prefix}{i}", "wait_ms": 30000})
        assert reply["status"] == "Completed", reply
        assert [r["order"] for r in reply["result"]] == [i * 10, i * 10 + 1, i * 10 + 2]
        pids |= {r["pid"] for r in reply["result"]}
    return pids


def test_a_worker_given_one_node_serves_both_the_survivor_and_the_restarted(
    nodes: list[ServeNode], worker: subprocess.Popen[str], cluster_database: str
) -> None:
    a, b = nodes
    wait_for(lambda: len(workers(a.url)) == 1 and len(workers(b.url)) == 1, 30,
             "the worker registered with both nodes")  # fmt: skip
    assert owned(a.url)["b"] > 0  # some of the workflows below are b's to dispatch
    assert run_all(a.url, "w", WORKFLOWS, [a.url, b.url]) == {worker.pid}

    b.kill()
    wait_for(lambda: owned(a.url).get("a") == SHARDS, 30, "a adopted every shard")
    assert run_all(a.url, "after", WORKFLOWS // 2, [a.url]) == {worker.pid}
    assert worker.poll() is None

    port = b.url.rsplit(":", 1)[1]
    back = start_node(cluster_database, "b", "--load", MODULE, "--port", port)
    nodes.append(back)
    assert back.url == b.url
    wait_for(lambda: len(workers(back.url)) == 1, 30, "the restarted node's session")
    assert owned(a.url)["b"] > 0
    assert run_all(a.url, "back", WORKFLOWS, [a.url, back.url]) == {worker.pid}

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert worker.stderr is not None
    assert f"node at {b.url} left the cluster" in worker.stderr.read()
