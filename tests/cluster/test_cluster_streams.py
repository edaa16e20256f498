"""Streams on a cluster: a node's firehose and per_workflow streams carry the commits of
workflows another node runs, contiguous and without duplicates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest

from tests.cluster.servers import ServeNode, call, owned, running_nodes
from tests.cluster.support import wait_for

pytestmark = pytest.mark.postgres
WORKFLOWS = 6


@pytest.fixture
def pair(cluster_database: str) -> Iterator[list[ServeNode]]:
    with running_nodes(cluster_database, ("n1", "n2")) as started:
        yield started


async def follow(url: str, subscription: dict, until: int) -> list[dict]:
    """Events from one stream socket until ``until`` WorkflowCompleted have arrived."""
    events: list[dict] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/events/stream") as ws:
        await ws.send_str(json.dumps(subscription))
        async with asyncio.timeout(60):
            async for message in ws:
                frame = json.loads(message.data)
                assert "error" not in frame, frame
                events.append(frame["event"])
                if sum(e["type"] == "WorkflowCompleted" for e in events) == until:
                    return events
    return events


def test_one_node_streams_what_another_node_commits(pair: list[ServeNode]) -> None:
    watcher, runner = pair
    wait_for(lambda: sorted(owned(watcher.url).values()) == [8, 8], timeout=60,
             what="two nodes splitting 16 shards")  # fmt: skip

    async def scenario() -> tuple[list[dict], list[dict]]:
        firehose = asyncio.create_task(
            follow(watcher.url, {"firehose": {"namespace": "default"}}, WORKFLOWS)
        )
        await asyncio.sleep(0.5)  # the subscription is attached
        ids = []
        for _ in range(WORKFLOWS):  # started through `runner`: they land in its shards
            started = await asyncio.to_thread(
                call, runner.url, "/workflows/start", {"workflow_type": "ClusterFlow", "input": 0}
            )
            ids.append(started["workflow_id"])
        first = asyncio.create_task(follow(
            watcher.url, {"per_workflow": {"namespace": "default", "workflow_id": ids[0],
                                           "resume_from_seq": 1}}, 1,
        ))  # fmt: skip
        for workflow_id in ids:
            signal = {"workflow_id": workflow_id, "signal_name": "proceed"}
            await asyncio.to_thread(call, runner.url, "/workflows/signal", signal)
        return await firehose, await first

    everything, one = asyncio.run(scenario())
    history = call(runner.url, "/workflows/history", {"workflow_id": one[0]["workflow_id"]})
    assert one == history["events"]  # resumed from 1: contiguous, nothing twice
    by_workflow: dict[str, list[int]] = {}
    for event in everything:
        by_workflow.setdefault(event["workflow_id"], []).append(event["seq"])
    assert len(by_workflow) == WORKFLOWS
    for workflow_id, seqs in by_workflow.items():
        head = call(runner.url, "/workflows/history", {"workflow_id": workflow_id})["head_seq"]
        assert seqs == list(range(1, head + 1)), (workflow_id, seqs)
