"""Drain: while the server stops, the listener stays open and every new request gets 503
``unavailable`` (error_type ShuttingDown) at once, instead of a refused connection;
requests already in flight are counted so the drain can wait for them, within one
deadline shared with the engine's shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from aionactors.core import Unavailable
from transports.errors import Handler
from transports.state import state_of


class InFlight:
    """Counts the HTTP requests being handled (stream sockets are not: they end on their own)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True once no request is in flight; False if ``timeout`` seconds pass first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._idle.wait()
        return self._idle.is_set()


IN_FLIGHT = web.AppKey("aionactors_in_flight", InFlight)


@web.middleware
async def drain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """503 for every non-public route while draining; count the requests let through."""
    state = state_of(request)
    if state.draining and not _is_public(request):
        raise Unavailable("the server is draining: try another node or retry after it restarts")
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await handler(request)
    in_flight = request.app[IN_FLIGHT]
    in_flight.enter()
    try:
        return await handler(request)
    finally:
        in_flight.leave()


def _is_public(request: web.Request) -> bool:
    """Health, metrics and the OpenAPI document keep answering (readiness says 503 itself)."""
    return any(route.public and route.path == request.path for route in state_of(request).routes)


def install_drain(app: web.Application) -> None:
    """Give ``app`` its in-flight counter (the middleware is in create_app's list)."""
    app[IN_FLIGHT] = InFlight()
