"""The four scenarios of the seed (reference/seeds/000_d8faaff26578a414.txt), end to end:
a real engine behind a real aiohttp server, real WebSocket clients, events appended by the
engine's own commit path (starts and signals), fanned out by the broadcaster."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from tests.transports.support import TENANT_A, TENANT_B, Stream, tenant

ATTACH_PROBE_TIMEOUT = 0.1


async def start(client: TestClient, namespace: str, workflow_type: str = "collector") -> str:
    workflow_id = str(uuid.uuid4())
    response = await client.post(
        "/workflows/start",
        json={"namespace": namespace, "workflow_type": workflow_type, "workflow_id": workflow_id},
        headers=tenant(namespace),
    )
    assert response.status == 200, await response.text()
    return workflow_id


async def signal(
    client: TestClient, namespace: str, workflow_id: str, name: str = "note", payload: Any = None
) -> None:
    response = await client.post(
        "/workflows/signal",
        json={
            "namespace": namespace,
            "workflow_id": workflow_id,
            "signal_name": name,
            "payload": payload,
        },
        headers=tenant(namespace),
    )
    assert response.status == 200, await response.text()


async def probe(stream: Stream) -> dict[str, Any] | None:
    """A frame if one arrives within the probe timeout (used only to detect attachment)."""
    try:
        return await stream.next_frame(timeout=ATTACH_PROBE_TIMEOUT)
    except TimeoutError:
        return None


async def test_resume_after_disconnect_delivers_contiguous_duplicate_free_events(
    client, connect
) -> None:
    workflow_id = await start(client, TENANT_A)  # seq 1 WorkflowStarted, 2 SearchAttributesUpdated
    await signal(client, TENANT_A, workflow_id)  # seq 3
    first = await connect(tenant(TENANT_A))
    await first.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    delivered = [await first.next_seq() for _ in range(3)]
    # The live tail was attached before the snapshot, so a signal recorded after the
    # replay frames arrived is guaranteed to be delivered live.
    await signal(client, TENANT_A, workflow_id)  # seq 4
    delivered.append(await first.next_seq())
    assert delivered == [1, 2, 3, 4]
    last_seq = 4
    await first.ws.close()

    await signal(client, TENANT_A, workflow_id)  # seq 5, while disconnected
    await signal(client, TENANT_A, workflow_id)  # seq 6
    second = await connect(tenant(TENANT_A))
    await second.per_workflow(TENANT_A, workflow_id, resume_from_seq=last_seq + 1)
    delivered += [await second.next_seq() for _ in range(2)]
    await signal(client, TENANT_A, workflow_id)  # seq 7, live
    delivered.append(await second.next_seq())
    assert delivered == [1, 2, 3, 4, 5, 6, 7], (
        "delivery spanning the disconnect must be contiguous with no duplicates"
    )


async def test_cursor_beyond_history_head_is_terminal_invalid_input_then_close(
    client, connect
) -> None:
    workflow_id = await start(client, TENANT_A)  # head is 2; the largest valid cursor is 3
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=4)
    await stream.expect_error("invalid_input", "ResumeCursorAheadOfHistory")


async def test_firehose_never_observes_foreign_namespace_events(client, connect) -> None:
    workflow_a = await start(client, TENANT_A)
    workflow_b = await start(client, TENANT_B)
    stream = await connect(tenant(TENANT_A))
    await stream.subscribe({"firehose": {"namespace": TENANT_A}})
    # Establish that the live subscription is attached: signal tenant-a until a frame
    # arrives (events recorded before the attach are live-only misses).
    received = []
    for _ in range(100):
        await signal(client, TENANT_A, workflow_a)
        frame = await probe(stream)
        if frame is not None:
            received.append(frame)
            break
    assert received, "firehose subscription never delivered a tenant-a event"
    # Foreign events before a final own event: broadcast order is preserved, so the
    # final tenant-a event proves the tenant-b events were filtered, not in flight.
    await signal(client, TENANT_B, workflow_b)
    await signal(client, TENANT_B, workflow_b)
    await signal(client, TENANT_A, workflow_a, payload="final")
    while True:
        frame = await stream.next_event()
        received.append(frame)
        if frame["event"].get("payload") == "final":
            break
    for frame in received:
        assert frame["namespace"] == TENANT_A
        assert frame["event"]["workflow_id"] == workflow_a


async def test_filtered_subscription_enforces_type_and_status_selectors(client, connect) -> None:
    stream = await connect(tenant(TENANT_A))
    await stream.subscribe(
        {"filtered": {"namespace": TENANT_A, "workflow_type": "checkout", "status": "Completed"}}
    )
    # Attach: complete fresh checkout workflows until one Completed frame arrives.
    attach_workflows: set[str] = set()
    received = []
    for _ in range(100):
        workflow_id = await start(client, TENANT_A, "checkout")
        attach_workflows.add(workflow_id)
        await signal(client, TENANT_A, workflow_id, "finish", {"attach": True})
        frame = await probe(stream)
        if frame is not None:
            received.append(frame)
            break
    assert received, "filtered subscription never delivered a matching event"
    # Non-matching traffic before the matching terminal event: a fulfillment workflow
    # completing (wrong type), a tenant-b checkout completing (wrong namespace) and the
    # final checkout's non-terminal events (wrong status).
    fulfillment = await start(client, TENANT_A, "fulfillment")
    await signal(client, TENANT_A, fulfillment, "finish", {})
    foreign = await start(client, TENANT_B, "checkout")
    await signal(client, TENANT_B, foreign, "finish", {})
    final_checkout = await start(client, TENANT_A, "checkout")
    await signal(client, TENANT_A, final_checkout, "note", 1)
    await signal(client, TENANT_A, final_checkout, "finish", {"final": True})
    while True:
        frame = await stream.next_event()
        received.append(frame)
        if frame["event"]["workflow_id"] == final_checkout:
            break
        assert frame["event"]["workflow_id"] in attach_workflows  # a late attach completion
    assert frame["event"]["seq"] == 5, "only the Completed event may be delivered"
    for frame in received:
        assert frame["namespace"] == TENANT_A
        event = frame["event"]
        assert event["type"] == "WorkflowCompleted"
        assert event["workflow_id"] not in (fulfillment, foreign)
