"""``Engine.open("postgresql://...")`` is a cluster node, beside ``aionactors serve`` nodes.

An embedded engine and a real ``aionactors serve`` process share one database: each
owns a share of the shards; the embedded engine's calls on the served node's workflows
go to that node (through the engine's own listener, which forwards them) and the
served node's HTTP API forwards calls on the embedded engine's workflows to it. When
the served node is SIGKILLed, the embedded engine adopts its shards and its waiting
workflows finish there, each exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from aionactors import Engine
from aionactors.cluster import ClusterSettings, DatabaseInUse, ShardMap
from aionactors.core.errors import InvalidInput, NotRunning, WorkflowNotFound
from aionactors.core.events import WorkflowCompleted
from tests.cluster.servers import (
    FLOWS,
    LEASE_ENV,
    ServeNode,
    call,
    owned,
    running_nodes,
    start_node,
)  # fmt: skip
from tests.cluster.support import ROOT, wait_for

pytestmark = pytest.mark.postgres
SHARDS = int(LEASE_ENV["AIONACTORS_LEASES__SHARD_COUNT"])


def embedded(db: str, node_id: str = "embedded") -> Engine:
    settings = ClusterSettings(
        node_id=node_id,
        shard_count=SHARDS,
        lease_seconds=float(LEASE_ENV["AIONACTORS_LEASES__LEASE_SECONDS"]),
        renew_seconds=float(LEASE_ENV["AIONACTORS_LEASES__RENEW_SECONDS"]),
    )
    return Engine.open(db, load_modules=[FLOWS], cluster=settings)


def ids_owned_by(url: str, node_id: str, prefix: str, count: int) -> list[str]:
    """``count`` workflow ids (default namespace) in shards ``node_id`` owns, as ``url``
    sees the cluster."""
    shards = {
        shard
        for node in call(url, "/cluster")["nodes"]
        if node["node_id"] == node_id
        for shard in node["owned_shards"]
    }
    shard_map = ShardMap(SHARDS)
    candidates = (f"{prefix}-{n}" for n in range(10_000))
    return [c for c in candidates if shard_map.shard_of(c) in shards][:count]


def start_through(url: str, workflow_id: str, value: int) -> None:
    start_through_type(url, "ClusterFlow", workflow_id, value)


def start_through_type(url: str, workflow_type: str, workflow_id: str, value: object) -> None:
    body = {"workflow_type": workflow_type, "workflow_id": workflow_id, "input": value}
    call(url, "/workflows/start", body)


def signal_through(url: str, workflow_id: str) -> None:
    call(url, "/workflows/signal", {"workflow_id": workflow_id, "signal_name": "proceed"})


@pytest.fixture
def pair(cluster_database: str) -> Iterator[tuple[ServeNode, Engine]]:
    served = start_node(cluster_database, "served")
    engine = embedded(cluster_database)
    try:
        wait_for(lambda: owned(served.url) == {"served": SHARDS // 2, "embedded": SHARDS // 2},
                 30, "the two nodes share the shards")  # fmt: skip
        yield served, engine
    finally:
        served.kill()
        engine.shutdown()


def test_an_embedded_engine_alone_is_a_node_owning_every_shard(cluster_database: str) -> None:
    engine = embedded(cluster_database)
    try:
        assert type(engine).__name__ == "NodeEngine"
        wait_for(lambda: len(engine.node.leases.held()) == SHARDS, 10, "every shard held")
        handle = engine.start_workflow("ClusterFlow", 1)
        handle.signal("proceed")
        assert handle.result(timeout=30) == 4
        cluster = call(engine.node.settings.advertise_url, "/cluster")  # its listener
        assert [n["node_id"] for n in cluster["nodes"]] == ["embedded"]
        assert len(cluster["nodes"][0]["owned_shards"]) == SHARDS
        with pytest.raises(DatabaseInUse):  # a lone engine cannot join it
            Engine.open(cluster_database, cluster=False, load_modules=[FLOWS])
    finally:
        engine.shutdown()
    # Shut down, it handed its shards back: a new node takes them all at once.
    again = embedded(cluster_database, "embedded-2")
    try:
        wait_for(lambda: len(again.node.leases.held()) == SHARDS, 10, "every shard held")
    finally:
        again.shutdown()


def test_calls_reach_the_owner_whichever_node_receives_them(
    pair: tuple[ServeNode, Engine],
) -> None:
    served, engine = pair
    theirs = ids_owned_by(served.url, "served", "theirs", 3)
    ours = ids_owned_by(served.url, "embedded", "ours", 3)
    assert not any(engine.node.leases.owns(w) for w in theirs)
    assert all(engine.node.leases.owns(w) for w in ours)

    # The embedded engine starts, queries, signals and waits on the served node's runs.
    handles = [engine.start_workflow("ClusterFlow", i, workflow_id=w) for i, w in enumerate(theirs)]
    assert [h.query("going") for h in handles] == [False, False, False]
    for handle in handles:
        handle.signal("proceed")
    assert [h.result(timeout=30) for h in handles] == [3, 4, 5]

    # The served node's HTTP API reaches the embedded engine's runs.
    for i, workflow_id in enumerate(ours):
        start_through(served.url, workflow_id, i)
        reply = call(served.url, "/workflows/query", {"workflow_id": workflow_id,
                                                      "query_name": "going"})  # fmt: skip
        assert reply["result"] is False
        signal_through(served.url, workflow_id)
    assert [engine.result(w, timeout=30) for w in ours] == [3, 4, 5]

    # A start without an id stays on the node that receives it.
    local = engine.start_workflow("ClusterFlow", 0)
    assert engine.node.leases.owns(local.workflow_id)

    # The owner's refusals arrive as the same error types.
    with pytest.raises(WorkflowNotFound):
        engine.signal(ids_owned_by(served.url, "served", "nobody", 1)[0], "proceed")
    with pytest.raises(NotRunning):
        engine.signal(theirs[0], "proceed")  # it completed


def test_the_embedded_engine_takes_over_a_killed_node(pair: tuple[ServeNode, Engine]) -> None:
    served, engine = pair
    theirs = ids_owned_by(served.url, "served", "orphan", 4)
    for i, workflow_id in enumerate(theirs):
        engine.start_workflow("ClusterFlow", i, workflow_id=workflow_id)
    served.kill()  # SIGKILL: the four runs wait for their signal on a dead node
    wait_for(lambda: len(engine.node.leases.held()) == SHARDS, 15, "the survivor adopts all")
    for workflow_id in theirs:
        engine.signal(workflow_id, "proceed")
    assert [engine.result(w, timeout=30) for w in theirs] == [3, 4, 5, 6]
    for workflow_id in theirs:
        completed = [e for e in engine.history(workflow_id) if isinstance(e, WorkflowCompleted)]
        assert len(completed) == 1


def test_a_killed_embedded_node_is_taken_over(cluster_database: str) -> None:
    """SIGKILL of a program embedding a node: a served node adopts its shards and runs its
    waiting workflows to their end."""
    program = subprocess.Popen(
        [sys.executable, "-m", "tests.cluster.embedded_process", cluster_database, "program"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert program.stdout is not None
        ready, address = program.stdout.readline().split()
        assert ready == "ready"
        with running_nodes(cluster_database, ["served"]) as (served,):
            wait_for(lambda: owned(served.url) == {"served": SHARDS // 2, "program": SHARDS // 2},
                     30, "the two nodes share the shards")  # fmt: skip
            orphans = ids_owned_by(served.url, "program", "orphan", 3)
            for i, workflow_id in enumerate(orphans):  # through the served node: forwarded
                start_through(served.url, workflow_id, i)
            assert call(address, "/cluster")["node_id"] == "program"
            program.kill()
            program.wait(30)
            wait_for(lambda: owned(served.url).get("served") == SHARDS, 15, "served adopts all")
            for i, workflow_id in enumerate(orphans):
                signal_through(served.url, workflow_id)
                reply = call(served.url, "/workflows/result",
                             {"workflow_id": workflow_id, "wait_ms": 30000})  # fmt: skip
                assert (reply["status"], reply["result"]) == ("Completed", i + 3)
    finally:
        if program.poll() is None:
            program.kill()
        program.wait(30)


def test_children_and_signals_between_workflows_cross_nodes(
    pair: tuple[ServeNode, Engine],
) -> None:
    """A parent's child, and a workflow's signal to another, in another node's shard: the
    owner starts the child (and tells the parent's node when it ends) or takes the signal."""
    served, engine = pair
    here, there = (ids_owned_by(served.url, n, "kid", 1)[0] for n in ("embedded", "served"))
    for child in (here, there):  # parents on the embedded node
        parent = ids_owned_by(served.url, "embedded", f"parent-of-{child}", 1)[0]
        assert engine.start_workflow("ParentFlow", child, workflow_id=parent).result(30) == 40
        assert engine.summary(child).parent == parent
    # A parent on the served node, started through its API, its child on the embedded one.
    child = ids_owned_by(served.url, "embedded", "kid-of-served", 1)[0]
    parent = ids_owned_by(served.url, "served", "served-parent", 1)[0]
    start_through_type(served.url, "ParentFlow", parent, child)
    reply = call(served.url, "/workflows/result", {"workflow_id": parent, "wait_ms": 30000})
    assert (reply["status"], reply["result"]) == ("Completed", 40)

    # Signals sent by workflow code, both ways.
    waiting = ids_owned_by(served.url, "served", "waits", 1)[0]
    engine.start_workflow("ClusterFlow", 0, workflow_id=waiting)
    poker = ids_owned_by(served.url, "embedded", "pokes", 1)[0]
    engine.start_workflow("PokeFlow", waiting, workflow_id=poker)
    assert engine.result(waiting, timeout=30) == 3
    waiting = ids_owned_by(served.url, "embedded", "waits-here", 1)[0]
    engine.start_workflow("ClusterFlow", 0, workflow_id=waiting)
    start_through_type(served.url, "PokeFlow", ids_owned_by(served.url, "served", "p", 1)[0],
                       waiting)  # fmt: skip
    assert engine.result(waiting, timeout=30) == 3


def test_cluster_settings_need_a_postgresql_url(tmp_path) -> None:
    settings = ClusterSettings(node_id="n")
    with pytest.raises(InvalidInput, match="postgresql://"):
        Engine.open(f"sqlite:///{tmp_path / 'a.db'}", cluster=settings)
    assert not (tmp_path / "a.db").exists()  # refused before anything is opened
