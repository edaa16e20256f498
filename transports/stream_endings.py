"""How a ``/events/stream`` socket ends (PROTOCOL.md, "Endings").

Once upgraded, the socket is no HTTP response any more: every failure ends with the
``{"error": …}`` frame and close 1011 (reason = the error code), a completed
per_workflow stream with close 1000, and a socket that can no longer be written (a
client that stopped reading, or that went away) is aborted. An abort resets the
connection (``SO_LINGER`` 0), so the kernel drops what was queued for a reader that
will never read it instead of holding it until TCP gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable

from aiohttp import WSCloseCode, web

from aionactors import AionError

CLOSE_TIMEOUT = 5.0
_LINGER_RESET = struct.pack("ii", 1, 0)


class SendStalled(Exception):
    """A frame could not be written within the send deadline: the client stopped reading."""


class SocketEnding:
    """Ends one upgraded socket; never raises, never writes HTTP."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, deadline: float) -> None:
        self._ws = ws
        self._request = request
        self._deadline = min(deadline, CLOSE_TIMEOUT)

    async def fail(self, error: AionError) -> None:
        """One error frame, then close 1011 with the code as reason; never more data."""
        if await self._within_deadline(self._ws.send_str(json.dumps({"error": error.to_wire()}))):
            await self.close(WSCloseCode.INTERNAL_ERROR, error.code)
        else:
            self.abort()

    async def close(self, code: int, reason: str) -> None:
        """A close frame (and the client's answer, briefly); an abort if that cannot be sent."""
        if not await self._within_deadline(self._ws.close(code=code, message=reason.encode())):
            self.abort()

    def abort(self) -> None:
        """Reset the connection now, dropping whatever the kernel still holds for it."""
        transport = self._request.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        transport.abort()

    async def _within_deadline(self, step: Awaitable[object]) -> bool:
        try:
            async with asyncio.timeout(self._deadline):
                await step
        except (TimeoutError, ConnectionError, RuntimeError):
            return False
        return True
