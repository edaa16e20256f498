"""Schedules on three ``aionactors serve`` nodes: each tick fires once cluster-wide.

A schedule lives in the shard of its history (``schedule:{id}``, its runs beside it)
and fires on that shard's owner only. It is created through a node that does not own
it, fires every second, and its owner is SIGKILLed: a survivor adopts the shard, catches
up the ticks that fell meanwhile (``catch_up_policy: all``) and goes on. The store is the
judge: every fire time from the first on is handled exactly once (one ScheduleTriggered,
one run with one WorkflowStarted), with no gap. Then pause, trigger, list and delete go
through nodes that do not own it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from aionactors.cluster import ShardMap
from aionactors.schedule import history_id
from aionactors.store.postgres import PostgresStore
from tests.cluster.servers import LEASE_ENV, CallFailed, ServeNode, call, owned, running_nodes
from tests.cluster.support import wait_for

pytestmark = pytest.mark.postgres
SCHEDULE = "every-second"
SHARDS = int(LEASE_ENV["AIONACTORS_LEASES__SHARD_COUNT"])


@pytest.fixture
def nodes(cluster_database: str) -> Iterator[list[ServeNode]]:
    with running_nodes(cluster_database, ("s1", "s2", "s3")) as started:
        yield started


@pytest.fixture
def store(cluster_database: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(cluster_database)
    yield opened
    opened.close()


def owner_of_schedule(node: ServeNode) -> str:
    shard = ShardMap(SHARDS).shard_of(history_id(SCHEDULE))
    for info in call(node.url, "/cluster")["nodes"]:
        if shard in info["owned_shards"]:
            return str(info["node_id"])
    raise AssertionError(f"nobody owns shard {shard}")


def handled_ticks(store: PostgresStore) -> list[datetime]:
    """Fire times the schedule handled on its own (scheduled or caught up), in order."""
    return [
        event.fire_at
        for event in store.read_history(history_id(SCHEDULE))
        if event.type in ("ScheduleTriggered", "ScheduleSkipped")
        and event.cause in ("scheduled", "catch_up")
    ]


def assert_each_tick_once(store: PostgresStore, *, contiguous: bool = True) -> list[datetime]:
    history = store.read_history(history_id(SCHEDULE))
    triggered = [e.triggered_workflow_id for e in history if e.type == "ScheduleTriggered"]
    assert len(triggered) == len(set(triggered)), Counter(triggered).most_common(3)
    ticks = handled_ticks(store)
    assert len(ticks) == len(set(ticks)), Counter(ticks).most_common(3)
    gaps = [b - a for a, b in pairwise(ticks)]
    assert not contiguous or all(gap == timedelta(seconds=1) for gap in gaps), gaps
    for workflow_id in triggered:
        kinds = [event.type for event in store.read_history(workflow_id)]
        assert kinds.count("WorkflowStarted") == 1, (workflow_id, kinds)
    runs = store.list_workflow_ids(f"{SCHEDULE}/")
    assert set(triggered) <= set(runs) and len(runs) - len(triggered) <= 1, (runs, triggered)
    return ticks


def state_through(node: ServeNode) -> dict[str, Any]:
    return call(node.url, f"/schedules/{SCHEDULE}")["state"]  # type: ignore[no-any-return]


def test_a_schedule_fires_once_per_tick_across_nodes_and_survives_its_owner(
    nodes: list[ServeNode], store: PostgresStore
) -> None:
    wait_for(lambda: sorted(owned(nodes[0].url).values()) == [5, 5, 6], timeout=60,
             what="three nodes splitting 16 shards")  # fmt: skip
    by_id = {node.node_id: node for node in nodes}
    owner = by_id[owner_of_schedule(nodes[0])]
    others = [node for node in nodes if node is not owner]
    created = call(others[0].url, "/schedules", {
        "schedule_id": SCHEDULE, "spec": {"every_seconds": 1}, "workflow_type": "TickFlow",
        "overlap_policy": "allow_all", "catch_up_policy": "all",
    })  # fmt: skip
    assert created["schedule_id"] == SCHEDULE
    with pytest.raises(CallFailed) as twice:
        call(others[1].url, "/schedules", {"schedule_id": SCHEDULE,
             "spec": {"every_seconds": 1}, "workflow_type": "TickFlow"})  # fmt: skip
    assert (twice.value.status, twice.value.body["code"]) == (409, "already_exists")
    wait_for(lambda: len(handled_ticks(store)) >= 3, timeout=30, what="three ticks")
    assert_each_tick_once(store)

    owner.kill()
    before_kill = len(handled_ticks(store))
    wait_for(lambda: owner_of_schedule(others[0]) != owner.node_id, timeout=30,
             what="a survivor adopting the schedule's shard")  # fmt: skip
    wait_for(lambda: len(handled_ticks(store)) >= before_kill + 3, timeout=30,
             what="three more ticks after the takeover")  # fmt: skip
    ticks = assert_each_tick_once(store)
    print(f"\n{len(ticks)} ticks handled once each, {before_kill} before the SIGKILL")

    # Every route works through either survivor, whichever owns the schedule.
    for node in others:
        listed = call(node.url, "/schedules")["schedules"]
        assert [s["schedule_id"] for s in listed] == [SCHEDULE], listed
        assert state_through(node)["triggered_count"] >= len(ticks)
    new_owner = by_id[owner_of_schedule(others[0])]
    bystander = next(node for node in others if node is not new_owner)
    assert call(bystander.url, f"/schedules/{SCHEDULE}/pause", {})["state"]["paused"] is True
    triggered = call(bystander.url, f"/schedules/{SCHEDULE}/trigger", {})["state"]
    manual = [e for e in triggered["recent_executions"] if e["cause"] == "manual"]
    assert len(manual) == 1, triggered["recent_executions"]
    wait_for(lambda: store.get_summary(manual[0]["workflow_id"]) is not None, what="manual run")
    assert all(state_through(node)["paused"] for node in others)
    assert call(bystander.url, f"/schedules/{SCHEDULE}/resume", {})["state"]["paused"] is False
    request_delete(bystander)
    for node in others:
        with pytest.raises(CallFailed) as gone:
            state_through(node)
        assert gone.value.status == 404
        assert call(node.url, "/schedules")["schedules"] == []
    assert_each_tick_once(store, contiguous=False)  # the paused time is not caught up


def request_delete(node: ServeNode) -> None:
    import urllib.request

    request = urllib.request.Request(node.url + f"/schedules/{SCHEDULE}", method="DELETE")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
