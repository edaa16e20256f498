"""Defect 3 of issue 13: every failure on an upgraded /events/stream socket ends with the error
frame and close 1011 (or an abort when the socket cannot be written), never an HTTP response
and never a server error in the log; a subscriber that stops reading is cut off by the send
deadline and its connection reset."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aionactors import Engine
from tests.transports.api import act, start
from tests.transports.raw_socket import RawWebSocket
from tests.transports.support import TENANT_A, Stream, tenant
from transports import ServerConfig, create_app
from transports.state import STATE, ServerState

MAX_SIGNALS = 3000
NOTE = "x" * (32 * 1024)


@pytest.fixture
async def deadline_client(aiohttp_client, engine: Engine) -> TestClient:
    """A short send deadline and a roomy event buffer: a stalled socket meets the deadline
    before its buffer fills."""
    config = ServerConfig(outbound_buffer=4096, send_timeout_seconds=0.3, max_body_bytes=1 << 20)
    return await aiohttp_client(create_app(engine, config))


def server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def endings(state: ServerState, reason: str) -> float | None:
    return state.metrics.registry.get_sample_value(
        "aionactors_stream_endings_total", {"reason": reason}
    )


async def assert_still_serving(client: TestClient) -> None:
    """A fresh subscriber replays a new workflow: the server kept serving."""
    workflow_id = (await start(client))["workflow_id"]
    stream = Stream(await client.ws_connect("/events/stream", headers=tenant(TENANT_A)))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    assert await stream.next_seq() == 1
    await stream.ws.close()


async def test_a_deeply_nested_first_frame_is_invalid_input(client, connect, caplog) -> None:
    stream = await connect()
    await stream.ws.send_str("[" * 20000)  # well within the 64 KiB frame limit
    error = await stream.expect_error("invalid_input")
    assert "malformed JSON" in error["message"]
    assert server_errors(caplog) == []
    await assert_still_serving(client)


async def test_an_unexpected_failure_is_the_backend_envelope(client, connect, caplog) -> None:
    state = client.server.app[STATE]

    async def broken_head_seq(workflow_id: str) -> int:  # an injected fault
        raise RuntimeError("injected")

    workflow_id = (await start(client))["workflow_id"]
    state.access.head_seq = broken_head_seq  # type: ignore[method-assign]
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    error = await stream.expect_error("backend")
    assert "RuntimeError" in error["message"]
    assert [m for m in server_errors(caplog) if "stream session failed" in m]


async def test_a_client_that_never_reads_is_cut_off_and_reset(deadline_client, caplog) -> None:
    client = deadline_client
    state = client.server.app[STATE]
    workflow_id = (await start(client))["workflow_id"]
    url = client.make_url("/events/stream")
    stuck = await RawWebSocket.connect(url, tenant(TENANT_A), receive_buffer=4096)
    stuck.send_json({"firehose": {"namespace": TENANT_A}})
    fast = Stream(await client.ws_connect("/events/stream", headers=tenant(TENANT_A)))
    await fast.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    assert await fast.next_seq() == 1
    fast_seqs = [1, await fast.next_seq()]
    # Big signals fill the kernel buffers behind the stuck reader; the engine never waits,
    # and the fast subscriber has each event before the next signal goes out.
    signals = 0
    while len(state.sockets) > 1:
        assert signals < MAX_SIGNALS, "the stuck subscriber was never cut off"
        status, _ = await act(
            client, "signal", workflow_id=workflow_id, signal_name="note", payload=NOTE
        )
        assert status == 200
        signals += 1
        fast_seqs.append(await fast.next_seq())
    assert fast_seqs == list(range(1, signals + 3))
    # The server reset the connection: what the stuck client has not read is gone.
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        while True:
            await asyncio.wait_for(stuck.frame(), 10)
    stuck.close()
    assert endings(state, "send_stalled") == 1
    assert server_errors(caplog) == []
    await fast.ws.close()
    await assert_still_serving(client)


class _ServeLikeServer(TestServer):
    """The app run as ``aionactors serve`` runs it: aiohttp's test server cancels a handler
    whose client went away, the real one does not (so the session itself sees it)."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


@pytest.fixture
async def production_client(aiohttp_client, engine: Engine) -> TestClient:
    return await aiohttp_client(_ServeLikeServer(create_app(engine, ServerConfig())))


async def test_a_client_that_disconnects_is_not_a_server_error(production_client, caplog) -> None:
    client = production_client
    state = client.server.app[STATE]
    workflow_id = (await start(client))["workflow_id"]
    stream = Stream(await client.ws_connect("/events/stream", headers=tenant(TENANT_A)))
    await stream.per_workflow(TENANT_A, workflow_id, resume_from_seq=1)
    assert await stream.next_seq() == 1
    closed = state.sockets_closed
    stream.ws._response.connection.transport.abort()  # gone without a close frame
    for n in range(3):  # events keep coming while the server notices
        await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=n)
    await asyncio.wait_for(closed.wait(), 10)
    assert server_errors(caplog) == []
    assert endings(state, "client_gone") == 1
    await assert_still_serving(client)
