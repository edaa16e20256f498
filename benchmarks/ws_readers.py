"""Stream subscribers for the benchmarks, read with picows so the client costs less than the server.

A thousand subscribers in one Python process read every event a thousand times. With
aiohttp's client each frame costs a future, a task switch and a message object (about
12 µs: bench_server.py's clients read 84,000 frames/s at most), so one event's 1,000
frames took the client 12 ms or more to read, and the figure measured the client
instead of the server. picows (Cython) hands each frame to a plain callback with no
future and no copy until asked. Frames are parsed only for what the benchmark needs,
once per distinct payload: every subscriber reads the same bytes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

Key = Callable[[dict[str, Any]], int]
"""What a stamping subscriber records of a frame (e.g. the event's seq, or its position)."""


class _Subscriber(WSListener):
    def __init__(self, group: StreamReaders, stamps: list[tuple[int, float]] | None) -> None:
        self._group = group
        self._stamps = stamps
        self.frames = 0
        self.last_read = 0.0
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        now = time.time()
        payload = frame.get_payload_as_bytes()
        if payload.startswith(b'{"error"'):
            self._group.ending(json.loads(payload)["error"]["code"])
            return
        self.frames += 1
        self.last_read = now
        if self._stamps is not None:
            self._stamps.append((self._group.key_of(payload), now))
        self._group.changed.set()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class StreamReaders:
    """``count`` sockets on ``/events/stream``, each sent ``subscription``; with ``key``,
    each records ``(key(frame), read time)`` for every event frame it reads."""

    def __init__(self, count: int, *, key: Key | None = None) -> None:
        self.count = count
        self._key = key
        self._keys: dict[bytes, int] = {}
        self.stamped: list[list[tuple[int, float]]] = [[] for _ in range(count if key else 0)]
        self.lagged = 0
        self.other_endings: list[str] = []
        self.changed = asyncio.Event()
        self._subscribers: list[_Subscriber] = []
        self._transports: list[WSTransport] = []

    @property
    def frames(self) -> list[int]:
        return [s.frames for s in self._subscribers]

    @property
    def last_read(self) -> float:
        return max((s.last_read for s in self._subscribers), default=0.0)

    def key_of(self, payload: bytes) -> int:
        found = self._keys.get(payload)
        if found is None:
            assert self._key is not None
            found = self._keys[payload] = self._key(json.loads(payload))
        return found

    def ending(self, code: str) -> None:
        if code == "lagged":
            self.lagged += 1
        else:
            self.other_endings.append(code)

    async def attach(self, url: str, subscription: dict[str, Any]) -> None:
        """Connect and subscribe, 100 at a time (the listen backlog, politely)."""
        ws_url = url.replace("http://", "ws://", 1) + "/events/stream"
        message = json.dumps(subscription).encode()

        async def connect(index: int) -> None:
            stamps = self.stamped[index] if self._key else None
            transport, subscriber = await ws_connect(lambda: _Subscriber(self, stamps), ws_url)
            assert isinstance(subscriber, _Subscriber)
            transport.send(WSMsgType.TEXT, message)
            self._subscribers.append(subscriber)
            self._transports.append(transport)

        for start in range(0, self.count, 100):
            await asyncio.gather(*(connect(i) for i in range(start, min(start + 100, self.count))))

    async def until(self, done: Callable[[], bool], timeout: float) -> None:
        """Wait until ``done()`` holds, re-checked whenever a frame arrives."""
        async with asyncio.timeout(timeout):
            while not done():
                self.changed.clear()
                await self.changed.wait()

    async def settle(self, quiet: float = 1.0, limit: float = 30.0) -> None:
        """Until no frame has arrived for ``quiet`` s (or ``limit`` s have passed)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            before = sum(self.frames)
            await asyncio.sleep(quiet)
            if sum(self.frames) == before:
                return

    async def ended(self, timeout: float) -> None:
        """Until the server has closed every socket."""
        await asyncio.wait_for(asyncio.gather(*(s.ended for s in self._subscribers)), timeout)

    async def close(self) -> None:
        for transport in self._transports:  # both are no-ops on a closed socket
            transport.send_close()
            transport.disconnect()
        await asyncio.gather(*(s.ended for s in self._subscribers), return_exceptions=True)
