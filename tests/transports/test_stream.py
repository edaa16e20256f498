"""/events/stream beyond the seed: cursors, guards, endings, identity by query parameters,
the wrapper form, and a broadcaster crash recovered by cursor."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import ClientSession

from tests.transports.api import act, result, start
from tests.transports.support import TENANT_A, TENANT_B, Stream, tenant
from transports import ServerConfig, create_app
from transports.state import STATE


async def test_cursor_zero_is_invalid_input(client, connect) -> None:
    workflow_id = (await start(client))["workflow_id"]
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=0)
    error = await stream.expect_error("invalid_input")
    assert "resume_from_seq" in error["message"]


async def test_namespace_guard_runs_before_the_cursor_check(client, connect) -> None:
    workflow_id = (await start(client, namespace=TENANT_B))["workflow_id"]
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_B, workflow_id, resume_from_seq=0)
    await stream.expect_error("namespace_denied")


async def test_foreign_and_missing_workflows_are_the_same_not_found(client, connect) -> None:
    foreign = (await start(client, namespace=TENANT_B))["workflow_id"]
    errors = []
    for workflow_id in (foreign, "missing"):
        stream = await connect(tenant(TENANT_A, TENANT_B))
        await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=99)
        error = await stream.expect_error("not_found", "WorkflowNotFound")
        errors.append(error["message"].replace(workflow_id, "<id>"))
    assert errors[0] == errors[1]


async def test_firehose_and_filtered_need_a_grant(connect) -> None:
    for subscription in (
        {"firehose": {"namespace": TENANT_B}},
        {"filtered": {"namespace": TENANT_B, "status": "Completed"}},
    ):
        stream = await connect(tenant(TENANT_A))
        await stream.subscribe(subscription)
        await stream.expect_error("namespace_denied")


async def test_a_bad_subscription_frame_is_invalid_input(connect) -> None:
    for frame in (
        "not json",
        '{"per_workflow": {"workflow_id": "w"}, "firehose": {}}',
        '{"somethingelse": {}}',
        '{"per_workflow": {"workflow_id": "w", "resume_from_seq": "1"}}',
    ):
        stream = await connect()
        await stream.ws.send_str(frame)
        await stream.expect_error("invalid_input")


async def test_the_stream_ends_with_1000_after_the_terminal_event(client, connect) -> None:
    workflow_id = (await start(client))["workflow_id"]
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    assert [await stream.next_seq() for _ in range(2)] == [1, 2]
    await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload="done")
    frames = [await stream.next_event() for _ in range(2)]
    assert [f["event"]["type"] for f in frames] == ["SignalReceived", "WorkflowCompleted"]
    assert frames[1]["namespace"] == TENANT_A
    await stream.expect_complete()


async def test_replaying_a_finished_workflow_sends_it_all_then_closes(client, connect) -> None:
    workflow_id = (await start(client, "greeter", input="x"))["workflow_id"]
    await result(client, workflow_id)
    stream = await connect()
    await stream.subscribe(
        {"subscription": {"per_workflow": {"namespace": TENANT_A, "workflow_id": workflow_id,
                                           "resume_from_seq": 2}}}
    )  # fmt: skip
    assert [await stream.next_seq() for _ in range(2)] == [2, 3]
    await stream.expect_complete()


async def test_without_a_cursor_or_at_head_plus_one_the_stream_is_live_only(
    client, connect
) -> None:
    workflow_id = (await start(client))["workflow_id"]  # head 2
    live = await connect(tenant(TENANT_A))
    await live.per_workflow(TENANT_A, workflow_id)
    at_head = await connect(tenant(TENANT_A))
    await at_head.per_workflow(TENANT_A, workflow_id, resume_from_seq=3)
    # When a cursor-less stream attaches is not observable: signal until it sees one.
    live_seqs: list[int] = []
    signals = 0
    while not live_seqs:
        await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=signals)
        signals += 1
        with contextlib.suppress(TimeoutError):
            live_seqs.append((await live.next_event(timeout=0.1))["event"]["seq"])
    await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload=None)
    head = 2 + signals + 2
    while (frame := await live.next_frame()) is not None:
        live_seqs.append(frame["event"]["seq"])
    assert live_seqs[0] >= 3 and live_seqs == list(range(live_seqs[0], head + 1))
    at_head_seqs = []
    while (frame := await at_head.next_frame()) is not None:
        at_head_seqs.append(frame["event"]["seq"])
    assert at_head_seqs == list(range(3, head + 1))
    assert at_head.ws.close_code == 1000


async def test_identity_may_come_from_query_parameters(client, connect) -> None:
    workflow_id = (await start(client))["workflow_id"]
    denied = await connect(**{"x-aion-subject": "bob", "x-aion-namespaces": TENANT_B})
    await denied.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    await denied.expect_error("namespace_denied")
    allowed = await connect(subject="bob", namespaces=f"{TENANT_B},{TENANT_A}")
    await allowed.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    assert await allowed.next_seq() == 1
    # Headers win over query parameters.
    headers_win = await connect(tenant(TENANT_B), namespaces=TENANT_A)
    await headers_win.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    await headers_win.expect_error("namespace_denied")


async def test_a_broadcaster_crash_cuts_subscribers_who_resume_without_gaps(
    client, connect, server
) -> None:
    broadcaster = server.app[STATE].broadcaster
    workflow_id = (await start(client))["workflow_id"]
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    delivered = [await stream.next_seq() for _ in range(2)]
    await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=1)
    delivered.append(await stream.next_seq())

    crashed = broadcaster.actor_ref
    crashed.tell("poison: not a batch")  # the actor raises, its supervisor restarts it
    error_frame = None
    while error_frame is None:  # anything buffered is flushed before the error
        frame = await stream.next_frame()
        assert frame is not None
        if "error" in frame:
            error_frame = frame
        else:
            delivered.append(frame["event"]["seq"])
    assert error_frame["error"]["code"] == "lagged"
    assert await stream.next_frame() is None and stream.ws.close_code == 1011
    assert broadcaster.restarts == 1 and broadcaster.actor_ref is not crashed

    await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=2)
    resumed = await connect(tenant(TENANT_A))
    await resumed.per_workflow(TENANT_A, workflow_id, resume_from_seq=delivered[-1] + 1)
    await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload=3)
    while (frame := await resumed.next_frame()) is not None:
        delivered.append(frame["event"]["seq"])
    assert delivered == list(range(1, 7))
    assert resumed.ws.close_code == 1000


async def test_server_shutdown_ends_streams_with_unavailable(aiohttp_server, engine) -> None:
    server = await aiohttp_server(create_app(engine, ServerConfig()))
    async with ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/events/stream"))
        stream = Stream(ws)
        await stream.subscribe({"firehose": {"namespace": "default"}})
        attached = False
        while not attached:  # a frame proves the subscription is attached
            await engine.start_workflow_async("greeter", "x")
            try:
                attached = await stream.next_frame(timeout=0.1) is not None
            except TimeoutError:
                continue
        closing = asyncio.create_task(server.close())
        while (frame := await stream.next_frame()) is not None and "error" not in frame:
            pass  # events still buffered are flushed first
        assert frame is not None and frame["error"]["code"] == "unavailable"
        assert await stream.next_frame() is None and ws.close_code == 1011
        await closing
