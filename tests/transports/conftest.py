"""Server fixtures: a real engine on a temp SQLite file behind a real aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore
from tests.transports import sample_workflows as s
from tests.transports.support import Stream
from transports import ServerConfig, create_app


def open_engine(path: Path, **settings: Any) -> Engine:
    settings.setdefault("query_timeout", 5.0)
    return Engine.open(
        SQLiteStore(path),
        workflows=s.WORKFLOWS,
        activities=s.ACTIVITIES,
        clock=ManualClock(),
        **settings,
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(tmp_path / "server.db")
    yield engine
    s.RELEASE_SLOW_QUERY.set()
    engine.shutdown()
    s.RELEASE_SLOW_QUERY.clear()


@pytest.fixture
def config() -> ServerConfig:
    return ServerConfig(max_body_bytes=64 * 1024, outbound_buffer=32)


@pytest.fixture
async def server(aiohttp_server, engine: Engine, config: ServerConfig) -> TestServer:
    return await aiohttp_server(create_app(engine, config))


@pytest.fixture
async def client(aiohttp_client, server: TestServer) -> TestClient:
    return await aiohttp_client(server)


StreamFactory = Callable[..., Awaitable[Stream]]


@pytest.fixture
async def connect(client: TestClient) -> AsyncIterator[StreamFactory]:
    """Open /events/stream sockets (closed at teardown)."""
    opened: list[aiohttp.ClientWebSocketResponse] = []

    async def open_stream(headers: dict[str, str] | None = None, **params: str) -> Stream:
        ws = await client.ws_connect("/events/stream", headers=headers or {}, params=params)
        opened.append(ws)
        return Stream(ws)

    yield open_stream
    for ws in opened:
        await ws.close()
