"""A real aiohttp server on 127.0.0.1 in a background thread, for sync HTTP clients
(schemathesis calls with ``requests``). The engine runs on a ManualClock, so nothing
commits in the background unless a request caused it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

from aionactors import Engine
from tests.transports.conftest import open_engine
from transports import ServerConfig, create_app

_QUIET_READS = 3
_QUIET_WAIT = 0.02


@contextmanager
def live_server(path: Path) -> Iterator[tuple[str, Engine]]:
    """``(base_url, engine)`` of a server on ``path``, stopped on exit."""
    engine = open_engine(path)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        runner = web.AppRunner(create_app(engine, ServerConfig(max_body_bytes=64 * 1024)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(30)
    assert ready.wait(30)
    try:
        yield f"http://127.0.0.1:{holder['port']}", engine
    finally:
        runner = holder["runner"]
        assert isinstance(runner, web.AppRunner)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        engine.shutdown()


def quiet_head(engine: Engine, limit: float = 10.0) -> int:
    """The store's global head once it has stopped moving (work started by earlier requests,
    e.g. a workflow finishing, has committed); bounded by ``limit`` seconds."""
    deadline = time.monotonic() + limit
    head, same = engine.store.head_position(), 0
    while same < _QUIET_READS and time.monotonic() < deadline:
        time.sleep(_QUIET_WAIT)
        now = engine.store.head_position()
        head, same = now, same + 1 if now == head else 0
    return head
