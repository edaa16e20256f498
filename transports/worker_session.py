"""One remote worker session: a socket to one server's ``/workers/stream`` (PROTOCOL.md).

Activities run through the engine's own :class:`ActivityExecutor` (sync ones on
a thread pool, async ones on an event loop), so ``activity.heartbeat()``,
``activity.info()`` and cancellation behave exactly as in-process; heartbeats
are relayed to the server. The server enforces the timeouts. The connection is
re-established with exponential backoff and jitter; SIGTERM drains (finish
what is in hand, report it, exit). :class:`transports.worker.Worker` keeps one
session per cluster node; a session alone serves exactly the server it dials.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from aionactors.engine.activities import (
    ActivityAttemptFailed,
    ActivityExecutor,
    ActivityOutcome,
    ActivitySucceeded,
    ActivityTask,
    ActivityWasCancelled,
)
from aionactors.engine.clock import SystemClock
from aionactors.workflow.activity import ActivityDefinition

_log = logging.getLogger(__name__)


class WorkerRefused(Exception):
    """The server refused the registration (e.g. ``namespace_denied``): do not retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class WorkerSession:
    """One worker's connection to one server's task queue (its own slots and executor)."""

    def __init__(
        self,
        server_url: str,
        *,
        task_queue: str,
        definitions: Mapping[str, ActivityDefinition],
        max_concurrent: int,
        namespaces: list[str],
        headers: Mapping[str, str],
        node: str,
        backoff_initial: float,
        backoff_max: float,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        """``on_drop`` is called each time a connection attempt ends (failed or closed)."""
        self.server_url = server_url.rstrip("/")
        self.task_queue = task_queue
        self.definitions = dict(definitions)
        self.max_concurrent = max_concurrent
        self.namespaces = namespaces
        self.headers = dict(headers)
        self.node = node
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.worker_id: str | None = None
        self._draining = False
        self._stop = asyncio.Event()
        self._in_hand: dict[str, ActivityTask] = {}
        self._unsent: dict[str, dict[str, Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._on_drop = on_drop

    # -- running -----------------------------------------------------------------------

    @property
    def in_hand(self) -> int:
        """Tasks running or with a result not yet acknowledged."""
        return len(self._in_hand) + len(self._unsent)

    def drain(self) -> None:
        """Stop taking tasks; :meth:`run_async` returns once those in hand are reported."""
        self._draining = True
        self._stop.set()

    async def run_async(self) -> None:
        """Serve, reconnecting with backoff and jitter, until :meth:`drain`."""
        self._loop = asyncio.get_running_loop()
        executor = ActivityExecutor(
            self.definitions, SystemClock(), max_workers=self.max_concurrent,
            on_heartbeat=self._on_heartbeat,
        )  # fmt: skip
        self._executor = executor
        delay = self.backoff_initial
        try:
            async with aiohttp.ClientSession(headers=self.headers) as session:
                while not (self._draining and not self._in_hand and not self._unsent):
                    try:
                        await self._connect(session)
                        delay = self.backoff_initial
                    except WorkerRefused:
                        raise
                    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                        _log.warning(
                            "worker connection to %s failed (%s); retrying in %.2fs",
                            self.server_url, exc, delay,
                        )  # fmt: skip
                    if self._on_drop is not None:
                        self._on_drop()
                    if self._draining and not self._in_hand and not self._unsent:
                        break
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay * random.uniform(0.5, 1.5)):
                            await self._stop.wait()
                    delay = min(self.backoff_max, delay * 2)
        finally:  # cancelled (its node left the cluster): nobody wants what is in hand
            for task in list(self._in_hand.values()):
                executor.cancel(task.workflow_id, task.activity_id)
            await asyncio.to_thread(executor.shutdown, True)

    async def _connect(self, session: aiohttp.ClientSession) -> None:
        url = self.server_url.replace("http", "ws", 1) + "/workers/stream"
        async with session.ws_connect(url, max_msg_size=1 << 20) as ws:
            await ws.send_str(json.dumps({
                "type": "register", "namespaces": self.namespaces, "task_queue": self.task_queue,
                "activity_types": sorted(self.definitions), "max_concurrent": self.max_concurrent,
                "node": self.node,
            }))  # fmt: skip
            first = await ws.receive_json(timeout=30)
            if first.get("type") == "error":
                error = first.get("error", {})
                raise WorkerRefused(error.get("code", "error"), error.get("message", ""))
            self.worker_id = first["worker_id"]
            outbox: asyncio.Queue[str] = asyncio.Queue()
            self._outbox = outbox
            writer = asyncio.create_task(_write(ws, outbox))
            try:
                for frame in list(self._unsent.values()):  # results the last socket lost
                    outbox.put_nowait(json.dumps(frame))
                await self._read(ws)
            finally:
                self._outbox = None
                writer.cancel()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Handle frames; once draining, return (closing) when nothing is left in hand."""
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                if self._draining and not self._in_hand and not self._unsent:
                    await ws.close()
                    return
                receive = asyncio.ensure_future(ws.receive())
                while not receive.done():
                    waiting = {receive} if stopper.done() else {receive, stopper}
                    await asyncio.wait(waiting, timeout=0.2, return_when="FIRST_COMPLETED")
                    if self._draining and not self._in_hand and not self._unsent:
                        break
                if not receive.done():
                    receive.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await receive
                    continue
                message = receive.result()
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                self._on_frame(json.loads(message.data))
        finally:
            stopper.cancel()

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "task":
            self._start(frame)
        elif kind == "result_ack":
            self._unsent.pop(frame["task_id"], None)
        elif kind == "cancel":
            task = self._in_hand.pop(frame["task_id"], None)
            if task is not None:
                self._executor.cancel(task.workflow_id, task.activity_id)
        elif kind == "drain":
            _log.info("server is draining; finishing tasks in hand, then reconnecting")
        elif kind == "error":
            _log.error("server error frame: %s", frame.get("error"))

    def _start(self, frame: dict[str, Any]) -> None:
        task = ActivityTask(
            workflow_id=frame["workflow_id"], run_id=frame["run_id"],
            activity_id=frame["activity_id"], activity_type=frame["activity_type"],
            input=frame.get("input"), attempt=frame["attempt"], namespace=frame["namespace"],
            task_queue=frame["task_queue"],
            start_to_close_timeout=_seconds(frame.get("start_to_close_ms")),
            heartbeat_timeout=_seconds(frame.get("heartbeat_timeout_ms")),
        )  # fmt: skip
        task_id = frame["task_id"]
        self._in_hand[task_id] = task
        self._executor.submit(task, lambda outcome: self._from_thread(task_id, outcome))

    # -- executor callbacks (worker threads) ---------------------------------------------

    def _on_heartbeat(self, task: ActivityTask, details: Any) -> None:
        task_id = next((t for t, held in self._in_hand.items() if held is task), None)
        if task_id is not None and self._loop is not None:
            frame = {"type": "heartbeat", "task_id": task_id, "details": details}
            self._loop.call_soon_threadsafe(self._send_soon, frame)

    def _from_thread(self, task_id: str, outcome: ActivityOutcome) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._report, task_id, outcome)

    def _report(self, task_id: str, outcome: ActivityOutcome) -> None:
        if self._in_hand.pop(task_id, None) is None or isinstance(outcome, ActivityWasCancelled):
            return  # the server cancelled it: it wants no result
        frame: dict[str, Any] = {"type": "result", "task_id": task_id}
        if isinstance(outcome, ActivitySucceeded):
            frame["result"] = outcome.result
        elif isinstance(outcome, ActivityAttemptFailed):
            error = outcome.error
            frame["error"] = {
                "kind": "retryable" if error.kind.value == "Retryable" else "terminal",
                "message": error.message, "type": error.type or "ActivityError",
                "details": error.details,
            }  # fmt: skip
        else:  # a local timeout cannot happen (the server owns timeouts); report it retryable
            frame["error"] = {"kind": "retryable", "message": str(outcome)}
        self._unsent[task_id] = frame
        self._send_soon(frame)

    def _send_soon(self, frame: dict[str, Any]) -> None:
        if self._outbox is not None:  # disconnected: results wait in _unsent for the next socket
            self._outbox.put_nowait(json.dumps(frame))


async def _write(ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[str]) -> None:
    """The one writer of a socket, so frames leave in order."""
    while True:
        text = await outbox.get()
        with contextlib.suppress(Exception):
            await ws.send_str(text)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000
