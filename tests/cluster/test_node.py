"""Cluster nodes in one process: a joining node adopts a share of running workflows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aionactors.cluster import ClusterNode, NotOwner
from tests.cluster.flows import ClusterFlow, SleepyFlow, step
from tests.cluster.support import SHARDS, settings

pytestmark = pytest.mark.postgres
WORKFLOWS = 12


@pytest.fixture
def open_node(postgres_dsn: str, postgres_schema: str) -> Iterator:
    nodes: list[ClusterNode] = []

    def build(node_id: str) -> ClusterNode:
        node = ClusterNode.open(
            postgres_dsn,
            settings(node_id, postgres_schema),
            workflows=[ClusterFlow, SleepyFlow],
            activities=[step],
            schedules=False,
        )
        nodes.append(node)
        return node

    yield build
    for node in reversed(nodes):
        node.shutdown()


def test_a_joining_node_adopts_running_workflows_and_each_completes_once(open_node) -> None:
    a = open_node("a")
    assert len(a.leases.owned_shards()) == SHARDS
    ids = [f"w{i}" for i in range(WORKFLOWS)]
    for workflow_id in ids:
        a.engine.start_workflow(ClusterFlow, 0, workflow_id=workflow_id)
    b = open_node("b")
    assert a.leases.wait_until(lambda m: len(m.owned_shards()) == SHARDS // 2, timeout=15)
    assert b.leases.wait_until(lambda m: len(m.owned_shards()) == SHARDS // 2, timeout=15)
    b.leases.flush_callbacks(30)
    moved = [w for w in ids if b.leases.owns(w)]
    assert moved  # parked on a signal, they are rehydrated on b when it arrives
    assert not any(a.engine.residency.is_resident(w) for w in moved)
    for workflow_id in ids:
        owner, other = (b, a) if workflow_id in moved else (a, b)
        with pytest.raises(NotOwner):
            other.engine.signal(workflow_id, "proceed")
        owner.engine.signal(workflow_id, "proceed")
    for workflow_id in ids:
        owner = b if workflow_id in moved else a
        assert owner.engine.result(workflow_id, timeout=30) == 3
        history = owner.engine.history(workflow_id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert [e.type for e in history].count("WorkflowCompleted") == 1
        assert [e.type for e in history].count("SignalReceived") == 1


def test_timers_of_a_handed_over_shard_fire_once_on_its_new_owner(open_node) -> None:
    a = open_node("a")
    ids = [f"sleepy{i}" for i in range(WORKFLOWS)]
    for workflow_id in ids:
        a.engine.start_workflow(SleepyFlow, 1.5, workflow_id=workflow_id)
    b = open_node("b")  # joins while every timer is still pending
    assert b.leases.wait_until(lambda m: len(m.owned_shards()) == SHARDS // 2, timeout=15)
    b.leases.flush_callbacks(30)
    moved = [w for w in ids if b.leases.owns(w)]
    assert moved
    assert a.engine.timers.armed_count() == WORKFLOWS - len(moved)  # a's are disarmed
    for workflow_id in ids:
        owner = b if workflow_id in moved else a
        assert owner.engine.result(workflow_id, timeout=30) == "woke"
        kinds = [e.type for e in owner.engine.history(workflow_id)]
        assert kinds.count("TimerFired") == 1 and kinds.count("WorkflowCompleted") == 1
