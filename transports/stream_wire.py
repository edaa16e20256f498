"""Event frames written straight to a stream socket, many per write.

Fan-out to a thousand subscribers made aiohttp's ``send_str`` the server's cost: one
``socket.send`` per frame per subscriber, plus a timeout and a task switch each
(bench_soak_stream.py: 200 subscribers at 40 starts/s spent 20 of 25 CPU seconds in
``send``, and every subscriber was cut off as lagged). A server-to-client text frame
is only a header and the payload (no mask; the socket never negotiates compression),
so each event's frame is encoded once, shared by every subscriber, and a subscriber's
buffered frames go out in one ``transport.write``. The send deadline applies only
when the socket's write buffer is above its high-water mark, the only time a write
can wait.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence

from aiohttp import web

from aionactors.engine import Published
from transports.stream_endings import SendStalled

HIGH_WATER = 256 * 1024
"""Bytes queued in the transport above which a writer waits for the client to read."""
_DRAIN_POLL = 0.01
_TEXT = 0x81  # FIN + text opcode


def wire(published: Published) -> bytes:
    """The event's WebSocket frame, encoded once and cached on the shared ``Published``."""
    frame = published.wire
    if frame is None:
        frame = published.wire = _text_frame(published.frame)
    return frame


def _text_frame(payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", _TEXT, size) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _TEXT, 126, size) + payload
    return struct.pack("!BBQ", _TEXT, 127, size) + payload


class FrameWriter:
    """Writes event frames to one upgraded socket, beside aiohttp's own control frames."""

    def __init__(self, request: web.Request, deadline: float) -> None:
        self._request = request
        self._deadline = deadline

    async def write(self, items: Sequence[Published]) -> None:
        """Queue ``items`` in one write; wait (bounded by the deadline) only if the
        client has let the socket's buffer fill."""
        transport = self._request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client's connection is closed")
        transport.write(b"".join(map(wire, items)) if len(items) > 1 else wire(items[0]))
        if transport.get_write_buffer_size() > HIGH_WATER:
            await self._drain(transport)

    def write_now(self, items: Sequence[Published]) -> bool:
        """Write ``items`` at once if the socket takes them without waiting; False (nothing
        written) if it is closing or the client is behind, for :meth:`write` to handle."""
        transport = self._request.transport
        if transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > HIGH_WATER:
            return False
        transport.write(b"".join(map(wire, items)) if len(items) > 1 else wire(items[0]))
        return True

    async def _drain(self, transport: asyncio.BaseTransport) -> None:
        # Polled, not awaited on aiohttp's private flow control: this only runs for a
        # client that is behind, and ends at the deadline either way.
        try:
            async with asyncio.timeout(self._deadline):
                while transport.get_write_buffer_size() > HIGH_WATER // 2:  # type: ignore[attr-defined]
                    if transport.is_closing():
                        raise ConnectionResetError("the client's connection is closed")
                    await asyncio.sleep(_DRAIN_POLL)
        except TimeoutError:
            raise SendStalled from None
