"""``GET /workers/stream`` and ``GET /workers``: remote activity workers (PROTOCOL.md).

The :class:`WorkerHub` (one per app) connects the engine's task queues to the
sockets: it routes waiting tasks round robin to registered workers with a free
slot, rate-limits each queue, relays heartbeats and results, sends ``cancel``
when the engine no longer wants a task, and reports a worker lost when its
socket closes or the connection stays silent for the heartbeat window.

Silence is judged per connection, on the engine's clock: any frame from the
worker (a result, a heartbeat, a WebSocket ping or pong) shows it is alive.
After half a window of silence the server sends a WebSocket ping, which every
WebSocket client answers by itself (the Worker SDK included, even while an
activity that never heartbeats runs on its threads); a connection that stays
silent a whole window — a frozen process, a dead peer behind an open TCP
connection — is closed and its attempts are recorded as lost (retried
elsewhere), whether or not it held any, so no task is routed to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import ValidationError

from aionactors.core import InvalidInput
from aionactors.core.errors import AionError, NamespaceDenied
from aionactors.core.payload import ActivityError, ActivityErrorKind
from aionactors.core.workflow_keys import public_id
from aionactors.engine.clock import Cancellable, Clock
from aionactors.engine.task_queues import RemoteTask, TaskQueues
from transports.errors import describe_validation_error
from transports.outcome_commits import OutcomeCommits
from transports.parsing import read_query
from transports.state import RouteSpec, ServerState, identity_of, state_of
from transports.worker_frames import (
    WORKER_FRAME,
    HeartbeatFrame,
    QueueBacklog,
    RegisterFrame,
    ResultFrame,
    WorkerEntry,
    WorkersQuery,
    WorkersResponse,
)

_log = logging.getLogger(__name__)

REGISTER_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0
COMMIT_WAIT = 10.0
"""How long a result_ack waits for the outcome's commit (a paused workflow holds it)."""
MAX_FRAME_BYTES = 1 << 20


MetricsHook = Callable[[str, dict[str, str], float], None]
"""(metric name, labels, value): the hook the metrics module wires (see ``WorkerHub.metrics``)."""


@dataclass
class _Worker:
    worker_id: str
    ws: web.WebSocketResponse
    register: RegisterFrame
    connected_at: datetime
    last_seen: datetime
    """On the engine's clock: when the worker last sent anything."""
    in_flight: set[str] = field(default_factory=set)
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    """JSON text frames to send, and ``None`` for a WebSocket ping."""
    silence_check: Cancellable | None = None

    def send(self, frame: dict[str, Any]) -> None:
        """Queue ``frame``; one writer per socket keeps frames in order."""
        self.outbox.put_nowait(json.dumps(frame))

    def ping(self) -> None:
        self.outbox.put_nowait(None)

    async def write(self) -> None:
        while True:
            text = await self.outbox.get()
            if text is None:
                with contextlib.suppress(Exception):
                    await self.ws.ping()
            else:
                await _send(self.ws, text)

    @property
    def free(self) -> int:
        return self.register.max_concurrent - len(self.in_flight)


class WorkerHub:
    """Routes tasks from the engine's queues to connected workers."""

    def __init__(
        self, queues: TaskQueues, window_ms: int, rate: float | None, clock: Clock
    ) -> None:
        self.queues = queues
        self.clock = clock
        self.commits = OutcomeCommits()
        self.window_ms = window_ms
        self.rate = rate
        self.workers: dict[str, _Worker] = {}
        self.metrics: MetricsHook = lambda _name, _labels, _value: None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rr = itertools.count()
        self._next_slot: dict[tuple[str, str], float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        queues.on_available(self._on_available)
        queues.on_cancel(self._on_cancel)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._dispatch())]

    async def stop(self) -> None:
        for worker in list(self.workers.values()):
            worker.send({"type": "drain"})
        await asyncio.sleep(0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- engine callbacks (any thread) ----------------------------------------------

    def _on_available(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    def _on_cancel(self, worker_id: str, task_id: str, reason: str) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._send_cancel, worker_id, task_id, reason)

    def _send_cancel(self, worker_id: str, task_id: str, reason: str) -> None:
        worker = self.workers.get(worker_id)
        if worker is None or task_id not in worker.in_flight:
            return
        worker.in_flight.discard(task_id)
        worker.send({"type": "cancel", "task_id": task_id, "reason": reason})
        self._wake.set()

    # -- routing ---------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            delay = self._route_once()
            if delay is not None:
                self._loop_call_later(delay)

    def _loop_call_later(self, delay: float) -> None:
        assert self._loop is not None
        self._loop.call_later(delay, self._wake.set)

    def _route_once(self) -> float | None:
        """Hand out every task that can go now; the wait until a rate-limited one can."""
        retry_in: float | None = None
        workers = list(self.workers.values())
        if not workers:
            return None
        start = next(self._rr) % len(workers)
        ordered = workers[start:] + workers[:start]
        progress = True
        while progress:
            progress = False
            for worker in ordered:
                if worker.free <= 0 or worker.ws.closed:
                    continue
                for namespace in worker.register.namespaces:
                    key = (namespace, worker.register.task_queue)
                    wait = self._rate_wait(key)
                    if wait > 0:
                        retry_in = wait if retry_in is None else min(retry_in, wait)
                        continue
                    remote = self.queues.claim(
                        namespace, key[1], worker.register.activity_types, worker.worker_id
                    )
                    if remote is None:
                        continue
                    self._take_slot(key)
                    self._hand(worker, remote)
                    progress = True
                    break
        self._report_workers()
        return retry_in

    def _rate_wait(self, key: tuple[str, str]) -> float:
        if self.rate is None:
            return 0.0
        return max(0.0, self._next_slot.get(key, 0.0) - time.monotonic())

    def _take_slot(self, key: tuple[str, str]) -> None:
        if self.rate is not None:
            now = time.monotonic()
            self._next_slot[key] = max(now, self._next_slot.get(key, now)) + 1.0 / self.rate

    def _hand(self, worker: _Worker, remote: RemoteTask) -> None:
        task = remote.task
        worker.in_flight.add(remote.task_id)
        frame: dict[str, Any] = {
            "type": "task",
            "task_id": remote.task_id,
            "namespace": task.namespace,
            "task_queue": task.task_queue,
            "workflow_id": public_id(task.workflow_id),  # the id in its namespace
            "run_id": task.run_id,
            "activity_id": task.activity_id,
            "activity_type": task.activity_type,
            "input": task.input,
            "attempt": task.attempt,
        }
        if task.start_to_close_timeout is not None:
            frame["start_to_close_ms"] = int(task.start_to_close_timeout * 1000)
        if task.heartbeat_timeout is not None:
            frame["heartbeat_timeout_ms"] = int(task.heartbeat_timeout * 1000)
        latency = (datetime.now(UTC) - remote.queued_at).total_seconds()
        self.metrics("worker_dispatch_latency_seconds", {"task_queue": task.task_queue}, latency)
        worker.send(frame)

    def _report_workers(self) -> None:
        """(The queue backlog is read at scrape time: transports.ops.install_gauges.)"""
        self.metrics("workers_connected", {}, len(self.workers))

    # -- silence (see the module docstring) ---------------------------------------------

    def heard(self, worker: _Worker) -> None:
        """The worker sent something: its silence starts over."""
        worker.last_seen = self.clock.now()

    def _arm_silence_check(self, worker: _Worker, delay: float) -> None:
        def from_clock() -> None:  # the clock's thread
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._judge_silence, worker)

        worker.silence_check = self.clock.call_later(delay, from_clock)

    def _judge_silence(self, worker: _Worker) -> None:
        """Ping a connection quiet for half a window; lose one quiet for a whole window."""
        if self.workers.get(worker.worker_id) is not worker:
            return
        window = self.window_ms / 1000
        quiet = (self.clock.now() - worker.last_seen).total_seconds()
        if quiet >= window:
            _log.warning(
                "worker %s (node %s) sent nothing for %.1fs, the heartbeat window: lost",
                worker.worker_id, worker.register.node, quiet,
            )  # fmt: skip
            self.leave(worker)
            asyncio.ensure_future(  # noqa: RUF006 (the socket's handler awaits its end)
                worker.ws.close(code=WSCloseCode.GOING_AWAY, message=b"worker lost")
            )
            return
        if quiet >= window / 2:
            worker.ping()
            self._arm_silence_check(worker, window - quiet)
        else:
            self._arm_silence_check(worker, window / 2 - quiet)

    # -- a connection ------------------------------------------------------------------

    def join(self, worker: _Worker) -> None:
        self.workers[worker.worker_id] = worker
        self._arm_silence_check(worker, self.window_ms / 2000)
        self._wake.set()

    def leave(self, worker: _Worker) -> None:
        """The worker is gone (or judged lost): its attempts fail as "worker lost". Idempotent."""
        if self.workers.pop(worker.worker_id, None) is None:
            return
        if worker.silence_check is not None:
            worker.silence_check.cancel()
        worker.in_flight.clear()
        lost = self.queues.lose(worker.worker_id)
        if lost:
            _log.warning("worker %s lost holding %d task(s)", worker.worker_id, lost)
        self._wake.set()
        self._report_workers()

    def on_result(self, worker: _Worker, frame: ResultFrame) -> None:
        """Hand a result to the engine; returns once it is recorded (or was not current)."""
        worker.in_flight.discard(frame.task_id)
        task = self.queues.task_of(frame.task_id)
        if task is None:  # stale or duplicate: acknowledged, ignored
            return
        key = (task.workflow_id, task.activity_id, task.attempt)
        committed = self.commits.expect(key)
        try:
            if self._deliver(frame):
                committed.wait(COMMIT_WAIT)
        finally:
            self.commits.forget(key)
        self._on_available()  # a slot is free

    def _deliver(self, frame: ResultFrame) -> bool:
        if frame.error is None:
            return self.queues.complete(frame.task_id, frame.result)
        else:
            error = ActivityError(
                kind=_KINDS[frame.error.kind],
                type=frame.error.type,
                message=frame.error.message,
                details=frame.error.details,
            )
            return self.queues.fail(frame.task_id, error)

    def entries(self, shown: Callable[[str], bool]) -> list[WorkerEntry]:
        """One entry per (worker, namespace it serves) for the namespaces ``shown`` accepts."""
        return [
            WorkerEntry(
                worker_id=w.worker_id,
                namespace=ns,
                task_queue=w.register.task_queue,
                activity_types=w.register.activity_types,
                node=w.register.node,
                max_concurrent=w.register.max_concurrent,
                in_flight=len(w.in_flight),
                connected_at=w.connected_at,
            )
            for w in self.workers.values()
            for ns in w.register.namespaces
            if shown(ns)
        ]

    def backlog(self, shown: Callable[[str], bool]) -> list[QueueBacklog]:
        return [
            QueueBacklog(namespace=ns, task_queue=queue, waiting=waiting)
            for (ns, queue), waiting in sorted(self.queues.backlog().items())
            if shown(ns)
        ]


_KINDS = {"retryable": ActivityErrorKind.RETRYABLE, "terminal": ActivityErrorKind.TERMINAL}

HUB = web.AppKey("aionactors_worker_hub", WorkerHub)


def install_worker_hub(app: web.Application, state: ServerState) -> None:
    """Create the hub for ``app`` and start/stop it with the app."""
    hub = WorkerHub(
        state.engine.task_queues,
        state.config.worker_heartbeat_window_ms,
        state.config.worker_queue_rate,
        state.engine.clock,
    )
    app[HUB] = hub
    state.engine.add_commit_listener(hub.commits.on_commit)

    async def on_startup(_: web.Application) -> None:
        hub.start()

    async def on_shutdown(_: web.Application) -> None:
        await hub.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.insert(0, on_shutdown)


async def _send(ws: web.WebSocketResponse, text: str) -> None:
    with contextlib.suppress(Exception):
        await ws.send_str(text)


async def _fail(ws: web.WebSocketResponse, error: AionError) -> None:
    await _send(ws, json.dumps({"type": "error", "error": error.to_wire()}))
    with contextlib.suppress(Exception):
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=error.code.encode())


def _parse(text: str) -> RegisterFrame | ResultFrame | HeartbeatFrame:
    try:
        return WORKER_FRAME.validate_json(text)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, "worker frame")) from None


async def workers_stream(request: web.Request) -> web.WebSocketResponse:
    state = state_of(request)
    hub = request.app[HUB]
    identity = identity_of(request)
    # autoping off: pings and pongs reach _serve, where they count as signs of life
    ws = web.WebSocketResponse(timeout=CLOSE_TIMEOUT, max_msg_size=MAX_FRAME_BYTES, autoping=False)
    await ws.prepare(request)
    try:
        async with asyncio.timeout(REGISTER_TIMEOUT):
            first = await ws.receive()
    except TimeoutError:
        await _fail(ws, InvalidInput("no register frame within the register timeout"))
        return ws
    if first.type != WSMsgType.TEXT:
        await _fail(ws, InvalidInput("the first frame must be a text register frame"))
        return ws
    try:
        register = _parse(first.data)
        if not isinstance(register, RegisterFrame):
            raise InvalidInput('the first frame must be {"type": "register", ...}')
        for namespace in register.namespaces:
            if not identity.allows(namespace):
                raise NamespaceDenied(
                    f"caller {identity.subject!r} is not granted namespace {namespace!r}"
                )
    except AionError as exc:
        await _fail(ws, exc)
        return ws
    worker = _Worker(uuid.uuid4().hex, ws, register, datetime.now(UTC), hub.clock.now())
    worker.send(
        {"type": "registered", "worker_id": worker.worker_id, "heartbeat_window_ms": hub.window_ms}
    )
    if state.draining:
        worker.send({"type": "drain"})
    writer = asyncio.create_task(worker.write())
    hub.join(worker)
    try:
        await _serve(hub, worker)
    finally:
        hub.leave(worker)
        await _flush(worker)
        writer.cancel()
    return ws


async def _flush(worker: _Worker) -> None:
    """Let queued frames (an error, a last ack) go out before the socket closes."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            while not worker.outbox.empty() and not worker.ws.closed:
                await asyncio.sleep(0.01)


async def _serve(hub: WorkerHub, worker: _Worker) -> None:
    async for message in worker.ws:
        hub.heard(worker)
        if message.type == WSMsgType.PING:
            await worker.ws.pong(message.data)
            continue
        if message.type == WSMsgType.PONG:
            continue
        try:
            if message.type != WSMsgType.TEXT:
                raise InvalidInput("worker frames are JSON text")
            frame = _parse(message.data)
            if isinstance(frame, RegisterFrame):
                raise InvalidInput("register may only be the first frame")
        except AionError as exc:
            hub.leave(worker)  # before the close handshake, which waits for the worker
            await _fail(worker.ws, exc)
            return
        if isinstance(frame, HeartbeatFrame):
            if not hub.queues.heartbeat(frame.task_id, frame.details):
                worker.send({"type": "cancel", "task_id": frame.task_id, "reason": "not_current"})
            continue
        await asyncio.to_thread(hub.on_result, worker, frame)
        hub.heard(worker)  # it may have spoken while the commit was awaited: not silence
        worker.send({"type": "result_ack", "task_id": frame.task_id})


async def list_workers(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    identity = identity_of(request)
    only = read_query(request, WorkersQuery).namespace
    if only is not None:
        identity.require(only)
    shown = identity.allows if only is None else only.__eq__
    reply = WorkersResponse(workers=hub.entries(shown), backlog=hub.backlog(shown))
    return web.json_response(reply.model_dump(mode="json"))


WORKERS_STREAM_DESCRIPTION = (
    "WebSocket for remote activity workers: first frame `register`, then `result` and "
    "`heartbeat` frames; the server sends `registered`, `task`, `result_ack`, `cancel`, "
    '`drain` and `error` (PROTOCOL.md, "Remote activity workers").'
)


def worker_routes() -> list[RouteSpec]:
    return [
        RouteSpec("GET", "/workers/stream", workers_stream, "Remote activity workers (WebSocket)",
                  None, errors=("invalid_input", "namespace_denied"),
                  description=WORKERS_STREAM_DESCRIPTION),
        RouteSpec("GET", "/workers", list_workers, "Connected remote workers",
                  WorkersResponse, query=WorkersQuery,
                  errors=("invalid_input", "namespace_denied")),
    ]  # fmt: skip
