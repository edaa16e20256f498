"""Server test plumbing: tenant headers and a WebSocket reader that waits on frames."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import WSMsgType

RECEIVE_TIMEOUT = 10.0
TENANT_A = "tenant-a"
TENANT_B = "tenant-b"


def tenant(*namespaces: str, subject: str = "alice") -> dict[str, str]:
    return {"x-aion-subject": subject, "x-aion-namespaces": ",".join(namespaces)}


class Stream:
    """One client WebSocket on /events/stream."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.close_reason: str | None = None

    async def subscribe(self, body: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(body))

    async def per_workflow(
        self, namespace: str, workflow_id: str, resume_from_seq: int | None = None
    ) -> None:
        spec: dict[str, Any] = {"namespace": namespace, "workflow_id": workflow_id}
        if resume_from_seq is not None:
            spec["resume_from_seq"] = resume_from_seq
        await self.subscribe({"per_workflow": spec})

    async def next_frame(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any] | None:
        """The next text frame as JSON; None once the server closed the socket."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type == WSMsgType.TEXT:
                return json.loads(message.data)
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                if message.type == WSMsgType.CLOSE:
                    self.close_reason = message.extra
                return None
            if message.type == WSMsgType.ERROR:
                raise AssertionError(f"socket error: {message.data!r}")
            raise AssertionError(f"unexpected frame {message!r}")

    async def next_event(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        frame = await self.next_frame(timeout)
        assert frame is not None, "stream closed before the expected event frame"
        assert "event" in frame, f"expected an event frame, got {frame}"
        return frame

    async def next_seq(self) -> int:
        return (await self.next_event())["event"]["seq"]

    async def expect_error(self, code: str, error_type: str | None = None) -> dict[str, Any]:
        """One error frame, then the close (1011, reason = code), never more data."""
        frame = await self.next_frame()
        assert frame is not None and "error" in frame, f"expected an error frame, got {frame}"
        assert frame["error"]["code"] == code, frame
        if error_type is not None:
            assert frame["error"].get("error_type") == error_type, frame
        assert await self.next_frame() is None, "socket must close after the error frame"
        assert self.ws.close_code == 1011
        assert self.close_reason == code
        return frame["error"]

    async def expect_complete(self) -> None:
        assert await self.next_frame() is None
        assert self.ws.close_code == 1000
