"""The broadcaster: every durable commit, fanned out in commit order to bounded subscribers.

The engine's writer calls :meth:`Broadcaster.publish` after each commit (so only
durable events are ever published). ``publish`` only tells the broadcast actor;
the actor labels each event with its workflow's namespace and type and offers
it to the subscribers whose filter accepts it. A subscriber is an asyncio
consumer: matching events reach its event loop by ``call_soon_threadsafe``
(one wake-up per loop per batch) and land in a bounded buffer. A subscriber
that lets its buffer fill is cut off with a terminal ``lagged`` error and
resumes from its cursor; nobody ever waits for it.

The actor runs under its own supervisor. If it crashes, the batches in its
inbox are lost to live delivery, so every subscriber attached before the
restart is cut off with ``lagged`` as well: it resumes from its cursor and
history fills the gap. The actor is fed by ``publish`` alone, so a follower of
the store's global commit order (other nodes' commits) can feed it the same way:
``publish`` takes events with their positions, and every frame carries its position.

Example::

    broadcaster = Broadcaster.start(engine)
    subscription = broadcaster.subscribe(
        asyncio.get_running_loop(), lambda p: p.namespace == "default", bound=32
    )
    published = await subscription.get()      # raises Lagged once cut off
    subscription.close()
    broadcaster.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import pykka

from aionactors.core.errors import AionError, Unavailable
from aionactors.core.events import (
    Event,
    SearchAttributesUpdated,
    WorkflowStarted,
    event_dict,
    event_json,
)
from aionactors.core.search import DEFAULT_NAMESPACE, NAMESPACE_ATTRIBUTE, StringValue
from aionactors.core.visibility import WorkflowSummary
from aionactors.core.workflow_keys import public_json
from aionactors.engine import oplog
from aionactors.store.contract import CommittedEvent
from supervision import ChildSpec, Restart, Supervisor

_log = logging.getLogger(__name__)

Label = tuple[str | None, str | None]
"""(namespace, workflow type) of a workflow; None where unknown."""


class Lagged(AionError):
    """The subscriber fell behind (or the broadcast restarted): resume from your cursor."""

    code = "lagged"


@dataclass(eq=False)
class Published:
    """One committed event with its position in the store's commit order and the
    namespace and type of its workflow."""

    event: Event
    namespace: str | None
    workflow_type: str | None
    position: int
    wire: bytes | None = field(default=None, repr=False)
    """The frame as a transport encodes it, cached by that transport (shared, like ``frame``)."""

    @cached_property
    def frame(self) -> bytes:
        """The stream's event frame (UTF-8 JSON), serialised once and shared by every
        subscriber."""
        namespace = json.dumps(self.namespace).encode()
        if self.namespace in (None, DEFAULT_NAMESPACE):
            event = event_json(self.event)
        else:  # ids are per namespace: a subscriber sees ids, not the engine's keys
            event = json.dumps(public_json(event_dict(self.event))).encode()
        return b'{"namespace":%s,"position":%d,"event":%s}' % (namespace, self.position, event)


class _EngineLike(Protocol):
    store: Any

    def add_positioned_commit_listener(
        self, listener: Callable[[Sequence[CommittedEvent]], None]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class _Batch:
    committed: tuple[CommittedEvent, ...]


class Subscription:
    """A bounded buffer of published events, read on one asyncio loop.

    The broadcast actor only calls ``accepts`` (pure, any thread); delivery and
    reading happen on ``loop``. Once cut off, the events already buffered are
    still handed out, then ``get`` raises the error. Subscriptions with the same
    ``key`` have the same filter: the actor tests each event once for all of them.
    """

    def __init__(
        self,
        hub: _Hub,
        loop: asyncio.AbstractEventLoop,
        accepts: Callable[[Published], bool],
        bound: int,
        workflow_id: str | None,
        kind: str,
        bound_bytes: int | None = None,
        key: Hashable | None = None,
    ) -> None:
        self._hub = hub
        self.loop = loop
        self.accepts = accepts
        self.bound = bound
        self.bound_bytes = bound_bytes
        self.workflow_id = workflow_id
        self.kind = kind
        self.id = next(hub.ids)
        self.key: Hashable = key if key is not None else ("subscription", self.id)
        self._buffer: deque[Published] = deque()
        self._bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self.error: AionError | None = None
        self.direct: Callable[[Sequence[Published]], bool] | None = None
        """Set by a reader that can take a batch at once on the loop (e.g. write it to its
        socket): called instead of buffering while nothing is buffered; False = buffer it."""

    # ---- loop side ----------------------------------------------------------------------
    def offer(self, items: Sequence[Published], size: int | None = None) -> None:
        """Buffer one batch's items (runs on ``loop``).

        A batch is taken whole while the buffer is under its bounds (``bound`` events,
        ``bound_bytes`` of frames), so one big group commit never cuts off a subscriber
        that keeps up; one that is still at a bound when the next batch comes is cut off.
        """
        if self.error is not None:
            return
        if not self._buffer and self.direct is not None and self.direct(items):
            return  # taken at once: no buffer, no wake-up, no task switch
        if len(self._buffer) >= self.bound:
            self.fail(Lagged(f"subscriber lagged behind ({self.bound} events unread)"))
            return
        if self.bound_bytes is not None and self._bytes >= self.bound_bytes:
            self.fail(Lagged(f"subscriber lagged behind ({self._bytes} bytes unread)"))
            return
        self._buffer.extend(items)
        if self.bound_bytes is not None:
            self._bytes += size if size is not None else sum(len(p.frame) for p in items)
        self._wake()

    def fail(self, error: AionError) -> None:
        """End the subscription with ``error`` after what is buffered (runs on ``loop``)."""
        if self.error is None:
            self.error = error
            self._hub.remove(self)
            if isinstance(error, Lagged):
                self._hub.lagged += 1
                oplog.subscriber_lagged(self, error.message)
        self._wake()

    async def get(self) -> Published:
        """The next event; raises the terminal error once the buffer is empty."""
        await self._until_buffered()
        published = self._buffer.popleft()
        if self.bound_bytes is not None:
            self._bytes -= len(published.frame)
        return published

    async def get_many(self) -> list[Published]:
        """Everything buffered (at least one event): a reader that writes them in one go
        pays its per-write costs once per wake-up, not once per event."""
        await self._until_buffered()
        items = list(self._buffer)
        self._buffer.clear()
        self._bytes = 0
        return items

    async def _until_buffered(self) -> None:
        while not self._buffer:
            if self.error is not None:
                raise self.error
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def first_position(self) -> int | None:
        """The position of the oldest buffered event (None when the buffer is empty)."""
        return self._buffer[0].position if self._buffer else None

    def close(self) -> None:
        """Stop receiving; idempotent."""
        self._hub.remove(self)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # ---- any thread ---------------------------------------------------------------------
    def fail_threadsafe(self, error: AionError) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is reading any more
            self.loop.call_soon_threadsafe(self.fail, error)


class _Hub:
    """Subscribers and the current actor, shared by the writer thread, the actor and loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_workflow: dict[str, dict[int, Subscription]] = {}
        self._wide: dict[int, Subscription] = {}
        self.ids = itertools.count(1)
        self.ref: pykka.ActorRef[Any] | None = None
        self.running = threading.Event()
        self.restarts = 0
        self.closed = False
        self.lagged = 0
        self.published_events = 0

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            if self.closed or self.ref is None:
                raise Unavailable("the event broadcast is not running")
            if subscription.workflow_id is None:
                self._wide[subscription.id] = subscription
            else:
                self._by_workflow.setdefault(subscription.workflow_id, {})[subscription.id] = (
                    subscription
                )

    def remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription.workflow_id is None:
                self._wide.pop(subscription.id, None)
                return
            group = self._by_workflow.get(subscription.workflow_id)
            if group is not None:
                group.pop(subscription.id, None)
                if not group:
                    del self._by_workflow[subscription.workflow_id]

    def candidates(self, workflow_ids: Iterable[str]) -> list[Subscription]:
        with self._lock:
            found = list(self._wide.values())
            for workflow_id in workflow_ids:
                found.extend(self._by_workflow.get(workflow_id, {}).values())
        return found

    def all(self) -> list[Subscription]:
        with self._lock:
            found = list(self._wide.values())
            for group in self._by_workflow.values():
                found.extend(group.values())
        return found

    def cut_all(self, reason: str) -> None:
        """Cut off every subscriber: live delivery to them can no longer be gap-free."""
        for subscription in self.all():
            self.remove(subscription)
            subscription.fail_threadsafe(Lagged(reason))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for subscription in self.all():
            counts[subscription.kind] = counts.get(subscription.kind, 0) + 1
        return counts


class _Labels:
    """Namespace and type per workflow: from the batch itself, else the stored summary."""

    def __init__(self, read_summary: Callable[[str], WorkflowSummary | None], size: int) -> None:
        self._read_summary = read_summary
        self._size = size
        self._cache: OrderedDict[str, Label] = OrderedDict()

    def label(self, committed: Sequence[CommittedEvent]) -> list[Published]:
        # WorkflowStarted and its SearchAttributesUpdated(aion.namespace) commit together,
        # so a batch that (re)starts a workflow names its namespace and type itself.
        for event in (c.event for c in committed):
            if isinstance(event, WorkflowStarted):
                namespace, _ = self._cache.get(event.workflow_id, (None, None))
                self._remember(event.workflow_id, (namespace, event.workflow_type))
            elif isinstance(event, SearchAttributesUpdated):
                value = event.attributes.get(NAMESPACE_ATTRIBUTE)
                if isinstance(value, StringValue):
                    _, workflow_type = self._cache.get(event.workflow_id, (None, None))
                    self._remember(event.workflow_id, (value.data, workflow_type))
        return [
            Published(c.event, *self._lookup(c.event.workflow_id), c.position) for c in committed
        ]

    def _lookup(self, workflow_id: str) -> Label:
        label = self._cache.get(workflow_id)
        if label is not None and label[0] is not None and label[1] is not None:
            self._cache.move_to_end(workflow_id)
            return label
        summary = self._read_summary(workflow_id)
        if summary is None:  # not a workflow (e.g. a schedule's history): no namespace
            return label or (None, None)
        found = (summary.namespace, summary.workflow_type)
        self._remember(workflow_id, found)
        return found

    def _remember(self, workflow_id: str, label: Label) -> None:
        self._cache[workflow_id] = label
        self._cache.move_to_end(workflow_id)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)


class BroadcastActor(pykka.ThreadingActor):
    """Labels each committed batch and hands it to the matching subscribers' loops."""

    use_daemon_thread = True

    def __init__(self, hub: _Hub, labels: _Labels) -> None:
        super().__init__()
        self._hub = hub
        self._labels = labels
        self._inboxes: dict[asyncio.AbstractEventLoop, _LoopInbox] = {}

    def on_start(self) -> None:
        hub = self._hub
        hub.ref = self.actor_ref
        if hub.running.is_set():
            # The previous incarnation died with batches in its inbox: nobody attached
            # before now can be sure of a gap-free live stream.
            hub.restarts += 1
            hub.cut_all("the event broadcast restarted; resume from your cursor")
        hub.running.set()

    def on_receive(self, message: Any) -> None:
        if not isinstance(message, _Batch):
            raise TypeError(f"broadcast actor got an unknown message {message!r}")
        self._fan_out(message.committed)

    def _fan_out(self, committed: Sequence[CommittedEvent]) -> None:
        published = self._labels.label(committed)
        self._hub.published_events += len(published)
        workflow_ids = {p.event.workflow_id for p in published}
        groups: dict[Hashable, _Group] = {}
        for subscription in self._hub.candidates(workflow_ids):
            group = groups.get(subscription.key)
            if group is None:
                group = groups[subscription.key] = _Group(subscription.accepts)
            group.members.append(subscription)
        by_loop: dict[asyncio.AbstractEventLoop, list[_Delivery]] = {}
        for group in groups.values():
            try:  # once per filter, however many subscribers share it
                matched = [p for p in published if group.accepts(p)]
            except Exception as exc:  # a broken filter ends its own subscriptions only
                _log.exception("subscription filter failed")
                for subscription in group.members:
                    self._hub.remove(subscription)
                    subscription.fail_threadsafe(AionError(f"subscription filter failed: {exc}"))
                continue
            if not matched:
                continue
            # Encoded here, once, off the subscribers' event loops.
            size = sum(len(p.frame) for p in matched)
            members_by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
            for subscription in group.members:
                members_by_loop.setdefault(subscription.loop, []).append(subscription)
            for loop, members in members_by_loop.items():
                by_loop.setdefault(loop, []).append(_Delivery(members, matched, size))
        for loop, deliveries in by_loop.items():
            inbox = self._inboxes.get(loop)
            if inbox is None:
                inbox = self._inboxes[loop] = _LoopInbox(loop)
            if not inbox.put(deliveries):  # the loop is closed: its subscribers are gone
                del self._inboxes[loop]
                for delivery in deliveries:
                    for subscription in delivery.members:
                        self._hub.remove(subscription)


@dataclass(slots=True)
class _Group:
    """Subscriptions that share one filter (the same ``key``)."""

    accepts: Callable[[Published], bool]
    members: list[Subscription] = field(default_factory=list)


@dataclass(slots=True)
class _Delivery:
    """One batch's events for subscriptions that share a filter (and their frames' size)."""

    members: list[Subscription]
    items: list[Published]
    size: int


class _LoopInbox:
    """Deliveries waiting for one event loop, handed over in one callback.

    While the loop is busy, later batches join the waiting callback instead of
    scheduling their own: a loaded loop takes everything that arrived in one callback
    (and each subscriber wakes once for it), an idle one gets each batch at once.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[_Delivery] = []

    def put(self, deliveries: list[_Delivery]) -> bool:
        """Queue (actor thread); False if the loop is closed."""
        with self._lock:
            scheduled = bool(self._pending)
            self._pending.extend(deliveries)
        if scheduled:
            return True
        try:
            self._loop.call_soon_threadsafe(self._flush)
        except RuntimeError:
            return False
        return True

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for delivery in pending:  # in commit order
            for subscription in delivery.members:
                subscription.offer(delivery.items, delivery.size)


class Broadcaster:
    """Fans the engine's commits out to subscribers; see the module docstring."""

    def __init__(self, hub: _Hub, supervisor: pykka.ActorRef[Any]) -> None:
        self._hub = hub
        self._supervisor = supervisor

    @classmethod
    def start(
        cls,
        engine: _EngineLike,
        *,
        label_cache_size: int = 100_000,
        max_restarts: int = 10,
        restart_period: float = 10.0,
    ) -> Broadcaster:
        """Start the supervised actor and attach it to ``engine``'s commits."""
        hub = _Hub()
        labels = _Labels(engine.store.get_summary, label_cache_size)

        def gave_up(error: BaseException) -> None:
            _log.critical("the event broadcast supervisor gave up: %s", error)
            hub.ref = None
            hub.cut_all("the event broadcast stopped")

        supervisor = Supervisor.start(
            [
                ChildSpec(
                    "broadcaster",
                    BroadcastActor,
                    args=(hub, labels),
                    restart=Restart.PERMANENT,
                )
            ],
            max_restarts=max_restarts,
            period=restart_period,
            name="broadcast",
            on_root_failure=gave_up,
        )
        if not hub.running.wait(10):
            supervisor.stop()
            raise Unavailable("the event broadcast did not start")
        broadcaster = cls(hub, supervisor)
        engine.add_positioned_commit_listener(broadcaster.publish)
        return broadcaster

    def publish(self, committed: Sequence[CommittedEvent]) -> None:
        """Hand one committed batch (in commit order) to the actor. Never blocks: it runs on
        the writer thread."""
        hub = self._hub
        if hub.closed or not committed:
            return
        ref = hub.ref
        try:
            if ref is None:
                raise pykka.ActorDeadError("no broadcast actor")
            ref.tell(_Batch(tuple(committed)))
        except pykka.ActorDeadError:
            # Between a crash and the restart: this batch misses live delivery.
            hub.cut_all("the event broadcast restarted; resume from your cursor")

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop,
        accepts: Callable[[Published], bool],
        *,
        bound: int,
        workflow_id: str | None = None,
        kind: str = "stream",
        bound_bytes: int | None = None,
        key: Hashable | None = None,
    ) -> Subscription:
        """Attach now: every batch committed from here on is offered to ``accepts``.

        ``workflow_id`` narrows the candidates (an index, not a filter: ``accepts``
        still decides). ``bound_bytes`` bounds the buffered frames' size as well as
        their number. ``key`` names the filter: subscriptions with the same key must
        have the same ``accepts``, which then runs once per event for all of them.
        Raises Unavailable if the broadcast is not running.
        """
        if bound < 1 or (bound_bytes is not None and bound_bytes < 1):
            raise ValueError("a subscription needs a buffer of at least one event")
        subscription = Subscription(
            self._hub, loop, accepts, bound, workflow_id, kind, bound_bytes, key
        )
        self._hub.add(subscription)
        return subscription

    def subscriber_counts(self) -> dict[str, int]:
        """Live subscribers by kind."""
        return self._hub.counts()

    @property
    def lagged_total(self) -> int:
        return self._hub.lagged

    @property
    def published_events(self) -> int:
        return self._hub.published_events

    @property
    def restarts(self) -> int:
        return self._hub.restarts

    @property
    def actor_ref(self) -> pykka.ActorRef[Any] | None:
        """The current actor (tests crash it on purpose)."""
        return self._hub.ref

    def close(self) -> None:
        """Stop publishing and end every subscription with ``unavailable``."""
        hub = self._hub
        if hub.closed:
            return
        hub.closed = True
        for subscription in hub.all():
            hub.remove(subscription)
            subscription.fail_threadsafe(Unavailable("the server is shutting down"))
        with contextlib.suppress(pykka.ActorDeadError):
            self._supervisor.stop(timeout=10)
