"""Backpressure and fan-out: a slow subscriber is cut off with `lagged` while a fast one keeps
up (and the engine never waits), and 200 concurrent subscribers all get every event in order."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from tests.transports.api import act, start
from tests.transports.support import TENANT_A, Stream, tenant
from transports import ServerConfig, create_app
from transports.state import STATE

MAX_SIGNALS = 3000


def small_receive_buffer(addr_info) -> socket.socket:  # type: ignore[no-untyped-def]
    """A client socket with a tiny receive window, so a reader that stops reading stalls
    the server's writes quickly."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


@pytest.fixture
async def roomy_client(aiohttp_client, engine):
    config = ServerConfig(outbound_buffer=8, max_body_bytes=1 << 20)
    return await aiohttp_client(create_app(engine, config))


async def read_until_closed(
    stream: Stream, seqs: list[int], progress: asyncio.Event | None = None
) -> None:
    while (frame := await stream.next_frame()) is not None:
        assert "event" in frame, frame
        seqs.append(frame["event"]["seq"])
        if progress is not None:
            progress.set()


async def until_received(seqs: list[int], seq: int, progress: asyncio.Event) -> None:
    while not seqs or seqs[-1] < seq:
        progress.clear()
        await asyncio.wait_for(progress.wait(), 10)


async def test_a_slow_subscriber_is_lagged_while_a_fast_one_keeps_up(roomy_client) -> None:
    client = roomy_client
    broadcaster = client.server.app[STATE].broadcaster
    workflow_id = (await start(client))["workflow_id"]
    url = client.make_url("/events/stream")
    headers = tenant(TENANT_A)
    connector = aiohttp.TCPConnector(socket_factory=small_receive_buffer)
    async with aiohttp.ClientSession(connector=connector) as slow_session:
        slow = Stream(await slow_session.ws_connect(url, headers=headers))
        fast = Stream(await client.ws_connect("/events/stream", headers=headers))
        await slow.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
        await fast.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
        fast_seqs: list[int] = []
        progress = asyncio.Event()
        fast_reader = asyncio.create_task(read_until_closed(fast, fast_seqs, progress))
        await until_received(fast_seqs, 2, progress)
        # The slow client never reads; big payloads fill the socket buffers, then its
        # bounded server-side buffer; signals keep being acknowledged all along, and the
        # fast client has each event before the next signal is sent.
        payload = "x" * (32 * 1024)
        signals = 0
        while broadcaster.lagged_total == 0:
            assert signals < MAX_SIGNALS, "the slow subscriber was never cut off"
            status, _ = await act(
                client, "signal", workflow_id=workflow_id, signal_name="note", payload=payload
            )
            assert status == 200
            signals += 1
            await until_received(fast_seqs, 2 + signals, progress)  # the fast one keeps up
        await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload=1)
        head = signals + 4  # started, attributes, the notes, finish, completed
        await asyncio.wait_for(fast_reader, 30)
        assert fast_seqs == list(range(1, head + 1)), "the fast subscriber missed events"
        assert fast.ws.close_code == 1000

        # The slow one now reads: a contiguous prefix, then one lagged frame, then close.
        slow_seqs: list[int] = []
        while True:
            frame = await slow.next_frame()
            assert frame is not None
            if "error" in frame:
                assert frame["error"]["code"] == "lagged"
                break
            slow_seqs.append(frame["event"]["seq"])
        assert await slow.next_frame() is None and slow.ws.close_code == 1011
        assert slow_seqs == list(range(1, len(slow_seqs) + 1))
        assert len(slow_seqs) < head

        # ...and resumes from its cursor to the end, without gaps or duplicates.
        resumed = Stream(await slow_session.ws_connect(url, headers=headers))
        await resumed.per_workflow(TENANT_A, workflow_id, resume_from_seq=slow_seqs[-1] + 1)
        await read_until_closed(resumed, slow_seqs)
        assert slow_seqs == list(range(1, head + 1))


async def test_200_concurrent_subscribers_each_get_every_event_in_order(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    url = client.make_url("/events/stream")
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = await asyncio.gather(
            *(session.ws_connect(url, headers=tenant(TENANT_A)) for _ in range(200))
        )
        streams = [Stream(ws) for ws in sockets]
        await asyncio.gather(*(s.per_workflow(TENANT_A, workflow_id, 1) for s in streams))
        received: list[list[int]] = [[] for _ in streams]
        readers = [
            asyncio.create_task(read_until_closed(stream, seqs))
            for stream, seqs in zip(streams, received, strict=True)
        ]
        for n in range(20):
            await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=n)
        await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload="ok")
        await asyncio.wait_for(asyncio.gather(*readers), 30)
    expected = list(range(1, 25))  # started, attributes, 20 notes, finish, completed
    assert all(seqs == expected for seqs in received), [s for s in received if s != expected][:1]
    assert all(stream.ws.close_code == 1000 for stream in streams)
