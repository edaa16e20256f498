"""``GET /events/stream``: one subscription per WebSocket (PROTOCOL.md, "WebSocket").

A resume splices stored events and the live broadcast without gaps or
duplicates: attach to the broadcast first, then read the store from the cursor
and send it, then send live events past the last one sent (anything older was
in the read). per_workflow resumes by seq from its history; firehose and
filtered by position (the store's global commit order, carried by every frame)
from the namespace's committed events, through the same filter as live. Every
subscription is namespace-scoped: events are labelled with their workflow's
namespace by the broadcaster, and another namespace's events never pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Hashable, Sequence

import pydantic_core
from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import ValidationError

from aionactors import AionError, WorkflowStatus
from aionactors.core import TERMINAL_EVENT_TYPES, InvalidInput
from aionactors.core.status import LIFECYCLE_STATUS
from aionactors.engine import Lagged, Published, Subscription
from transports import models as m
from transports.errors import ResumeCursorAheadOfHistory, describe_validation_error
from transports.state import ServerState, identity_of, state_of
from transports.stream_endings import CLOSE_TIMEOUT, SendStalled, SocketEnding
from transports.stream_wire import FrameWriter

_log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 60.0
REPLAY_PAGE = 500
"""Stored events read per query when a wide subscription resumes from a position."""
MAX_FRAME_BYTES = 64 * 1024
_STATUS_OF_TERMINAL = {t: LIFECYCLE_STATUS[t] for t in TERMINAL_EVENT_TYPES}


class SequenceContiguityViolation(Lagged):
    error_type = "SequenceContiguityViolation"


class _Complete(Exception):
    """The per_workflow target reached its terminal event: close 1000."""


def parse_subscription(data: str | bytes) -> m.Subscribe:
    """The first frame as a subscription; anything else is ``invalid_input``.

    pydantic's JSON parser bounds nesting (``"[" * 20000`` is an error, not a
    RecursionError) and refuses invalid UTF-8.
    """
    try:
        parsed = pydantic_core.from_json(data)
    except ValueError as exc:
        raise InvalidInput(f"invalid subscription: malformed JSON: {exc}") from None
    if isinstance(parsed, dict) and set(parsed) == {"subscription"}:
        parsed = parsed["subscription"]
    try:
        return m.Subscribe.model_validate_json(json.dumps(parsed))
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, "subscription")) from None
    except ValueError as exc:  # e.g. a number json.dumps cannot write back
        raise InvalidInput(f"invalid subscription: {exc}") from None


async def stream_events(request: web.Request) -> web.WebSocketResponse:
    state = state_of(request)
    # No permessage-deflate: event frames are encoded once for every subscriber.
    ws = web.WebSocketResponse(timeout=CLOSE_TIMEOUT, max_msg_size=MAX_FRAME_BYTES, compress=False)
    await ws.prepare(request)
    state.sockets.add(ws)
    state.sockets_closed.clear()
    session = _Session(state, ws, request)
    try:
        await session.run()
    finally:
        state.sockets.discard(ws)
        if not state.sockets:
            state.sockets_closed.set()
    return ws


class _Session:
    def __init__(self, state: ServerState, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.state = state
        self.ws = ws
        self.identity = identity_of(request)
        self.subscription: Subscription | None = None
        self.deadline = state.config.send_timeout_seconds
        self.ending = SocketEnding(ws, request, self.deadline)
        self.frames = FrameWriter(request, self.deadline)
        self.last = 0
        """The last event sent live: its position (wide) or seq (per workflow)."""

    async def run(self) -> None:
        """Serve the subscription; every way out ends the socket as PROTOCOL.md says."""
        try:
            subscribe = await self._read_subscription()
            if subscribe is None:
                return  # the client left (or closed) before subscribing: nothing to say
            if not await self._serve_until_either_ends(subscribe):
                self._ended("client_gone")
        except _Complete:
            self._ended("complete")
            await self.ending.close(WSCloseCode.OK, "subscription complete")
        except AionError as exc:
            self._ended(exc.code)
            await self.ending.fail(exc)
        except SendStalled:
            self._ended("send_stalled")
            _log.info("stream subscriber cut off: no frame written within %.1f s", self.deadline)
            self.ending.abort()
        except ConnectionError as exc:  # the client went away mid-send: ordinary
            self._ended("client_gone")
            _log.info("stream client disconnected: %s", exc)
            self.ending.abort()
        except Exception as exc:  # a bug: still the envelope, never an HTTP 500 on the socket
            self._ended("backend")
            _log.exception("stream session failed")
            await self.ending.fail(AionError(f"internal error: {type(exc).__name__}"))
        finally:
            if self.subscription is not None:
                self.subscription.direct = None
                self.subscription.close()

    async def _serve_until_either_ends(self, subscribe: m.Subscribe) -> bool:
        """Run the pump and a reader of client frames; False if the client went away first."""
        pump = asyncio.create_task(self._serve(subscribe))
        reader = asyncio.create_task(self._read_until_closed())
        try:
            done, _ = await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, reader):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if pump not in done:
            return False
        await pump  # re-raises how the subscription ended
        return True

    async def _read_subscription(self) -> m.Subscribe | None:
        try:
            message = await self.ws.receive(timeout=SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            raise InvalidInput("no subscription frame within 60 s") from None
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return None
        return parse_subscription(message.data)

    async def _read_until_closed(self) -> None:
        """Drain client frames (further subscriptions are ignored) until the socket closes."""
        while True:
            message = await self.ws.receive()
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                                WSMsgType.ERROR):  # fmt: skip
                return

    async def _serve(self, subscribe: m.Subscribe) -> None:
        if subscribe.per_workflow is not None:
            await self._per_workflow(subscribe.per_workflow)
        elif subscribe.firehose is not None:
            await self._wide(subscribe.firehose, "firehose")
        elif subscribe.filtered is not None:
            await self._wide(subscribe.filtered, "filtered")

    async def _wide(self, spec: m.Firehose | m.Filtered, kind: str) -> None:
        """firehose / filtered: replay from ``resume_from_position`` if given, then live."""
        self.identity.require(spec.namespace)
        accepts = _filtered(spec)
        key = (kind, spec.model_dump_json(exclude={"resume_from_position"}))
        subscription = self._attach(accepts, kind, key=key)  # first: nothing is missed
        cursor = spec.resume_from_position
        last = 0
        if cursor is not None:
            head = await self.state.access.head_position()
            if cursor == 0:
                raise InvalidInput(
                    "resume_from_position starts at 1 (the first event); 0 is not a cursor"
                )
            if cursor > head + 1:
                raise ResumeCursorAheadOfHistory(
                    f"resume_from_position {cursor} is beyond the head position {head} "
                    f"(the largest valid cursor is {head + 1})"
                )
            last = await self._replay(spec, accepts, subscription, cursor - 1)
        self.last = last
        subscription.direct = self._direct_wide  # live: caught-up batches go straight out
        while True:
            items = await subscription.get_many()
            fresh = [p for p in items if p.position > self.last]  # older ones were replayed
            if fresh:
                self.last = fresh[-1].position  # before the await: a direct write may follow
                await self._send(fresh)

    def _direct_wide(self, items: Sequence[Published]) -> bool:
        fresh = [p for p in items if p.position > self.last]
        if fresh:
            if not self.frames.write_now(fresh):
                return False
            self.last = fresh[-1].position
            self.state.metrics.stream_frames.inc(len(fresh))
        return True

    async def _replay(
        self,
        spec: m.Firehose | m.Filtered,
        accepts: Callable[[Published], bool],
        subscription: Subscription,
        last: int,
    ) -> int:
        """Send the stored events after ``last`` that the live filter would pass, page by
        page, until the store has no more or the live buffer already holds the rest."""
        workflow_type = spec.workflow_type if isinstance(spec, m.Filtered) else None
        while True:
            page = await self.state.access.committed_in(
                spec.namespace, last, REPLAY_PAGE, workflow_type
            )
            replayed = [Published(c.event, spec.namespace, workflow_type, c.position) for c in page]
            passed = [p for p in replayed if accepts(p)]
            if passed:
                await self._send(passed)
            if page:
                last = page[-1].position
            live_from = subscription.first_position()
            if len(page) < REPLAY_PAGE or (live_from is not None and last >= live_from - 1):
                return last

    def _attach(
        self,
        accepts: Callable[[Published], bool],
        kind: str,
        workflow_id: str | None = None,
        key: Hashable | None = None,
    ) -> Subscription:
        config = self.state.config
        self.subscription = self.state.broadcaster.subscribe(
            asyncio.get_running_loop(),
            accepts,
            bound=config.outbound_buffer,
            bound_bytes=config.outbound_buffer_bytes,
            workflow_id=workflow_id,
            kind=kind,
            key=key,
        )
        return self.subscription

    async def _per_workflow(self, spec: m.PerWorkflow) -> None:
        namespace, workflow_id = spec.namespace, spec.workflow_id
        self.identity.require(namespace)
        summary = await self.state.access.owned(self.identity, namespace, workflow_id)
        key = summary.workflow_id  # the engine's key: ids are per namespace
        subscription = self._attach(  # attach first: nothing committed from now on is missed
            lambda p: p.event.workflow_id == key and p.namespace == namespace,
            "per_workflow",
            key,
        )
        head = await self.state.access.head_seq(key)
        cursor = spec.resume_from_seq
        if cursor is None:
            last = head
        elif cursor == 0:
            raise InvalidInput("resume_from_seq starts at 1 (the first event); 0 is not a cursor")
        elif cursor > head + 1:
            raise ResumeCursorAheadOfHistory(
                f"resume_from_seq {cursor} is beyond the history head {head} "
                f"(the largest valid cursor is {head + 1})"
            )
        else:
            history = await self.state.access.history_positioned(key, cursor)
            last = cursor - 1
            for start in range(0, len(history), REPLAY_PAGE):
                page = history[start : start + REPLAY_PAGE]
                await self._send(
                    [Published(c.event, namespace, summary.workflow_type, c.position) for c in page]
                )
            if history:
                last = history[-1].event.seq
                if history[-1].event.type in TERMINAL_EVENT_TYPES:
                    raise _Complete
        self.last = last
        subscription.direct = self._direct_per_workflow
        while True:
            fresh: list[Published] = []
            for published in await subscription.get_many():
                seq = published.event.seq
                if seq <= self.last:
                    continue  # already sent from history
                if seq != self.last + 1:
                    if fresh:
                        await self._send(fresh)
                    raise SequenceContiguityViolation(
                        f"live event seq {seq} does not follow {self.last}; "
                        f"resume from {self.last + 1}"
                    )
                fresh.append(published)
                self.last = seq
                if published.event.type in TERMINAL_EVENT_TYPES:
                    await self._send(fresh)
                    raise _Complete
            if fresh:
                await self._send(fresh)

    def _direct_per_workflow(self, items: Sequence[Published]) -> bool:
        """The common case at once: the batch continues the history and does not end it.
        Anything else (a gap, a terminal event, a client behind) is the task's to handle."""
        fresh: list[Published] = []
        last = self.last
        for published in items:
            seq = published.event.seq
            if seq <= last:
                continue
            if seq != last + 1 or published.event.type in TERMINAL_EVENT_TYPES:
                return False
            fresh.append(published)
            last = seq
        if fresh:
            if not self.frames.write_now(fresh):
                return False
            self.last = last
            self.state.metrics.stream_frames.inc(len(fresh))
        return True

    async def _send(self, items: list[Published]) -> None:
        """Event frames in order, in one write (see ``stream_wire``)."""
        await self.frames.write(items)
        self.state.metrics.stream_frames.inc(len(items))

    def _ended(self, how: str) -> None:
        self.state.metrics.stream_endings.inc(reason=how)


def _filtered(spec: m.Firehose | m.Filtered) -> Callable[[Published], bool]:
    """What a wide subscription passes: its namespace's events (and, filtered, its type and
    status), the same test live and in a replay."""
    namespace = spec.namespace
    if not isinstance(spec, m.Filtered):
        return lambda published: published.namespace == namespace
    workflow_type, status = spec.workflow_type, spec.status

    def accepts(published: Published) -> bool:
        if published.namespace != namespace:
            return False
        if workflow_type is not None and published.workflow_type != workflow_type:
            return False
        if status is not None:
            event_status = _STATUS_OF_TERMINAL.get(published.event.type, WorkflowStatus.RUNNING)
            return event_status == status
        return True

    return accepts
