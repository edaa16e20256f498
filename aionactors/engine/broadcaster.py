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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import pykka

from aionactors.core.errors import AionError, Unavailable
from aionactors.core.events import (
    Event,
    SearchAttributesUpdated,
    WorkflowStarted,
    event_json,
)
from aionactors.core.search import NAMESPACE_ATTRIBUTE, StringValue
from aionactors.core.visibility import WorkflowSummary
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

    @cached_property
    def frame(self) -> str:
        """The stream's event frame, serialised once and shared by every subscriber."""
        namespace = json.dumps(self.namespace)
        event = event_json(self.event).decode()
        return f'{{"namespace":{namespace},"position":{self.position},"event":{event}}}'


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
    still handed out, then ``get`` raises the error.
    """

    def __init__(
        self,
        hub: _Hub,
        loop: asyncio.AbstractEventLoop,
        accepts: Callable[[Published], bool],
        bound: int,
        workflow_id: str | None,
        kind: str,
    ) -> None:
        self._hub = hub
        self.loop = loop
        self.accepts = accepts
        self.bound = bound
        self.workflow_id = workflow_id
        self.kind = kind
        self.id = next(hub.ids)
        self._buffer: deque[Published] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.error: AionError | None = None

    # ---- loop side ----------------------------------------------------------------------
    def offer(self, items: Iterable[Published]) -> None:
        """Buffer one batch's items (runs on ``loop``).

        A batch is taken whole while fewer than ``bound`` events wait, so one big group
        commit never cuts off a subscriber that keeps up; one that still has ``bound``
        events unread when the next batch comes is cut off.
        """
        if self.error is not None:
            return
        if len(self._buffer) >= self.bound:
            self.fail(Lagged(f"subscriber lagged behind ({self.bound} events unread)"))
            return
        self._buffer.extend(items)
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
        while not self._buffer:
            if self.error is not None:
                raise self.error
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()

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
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Subscription, list[Published]]]] = {}
        for subscription in self._hub.candidates(workflow_ids):
            try:
                matched = [p for p in published if subscription.accepts(p)]
            except Exception as exc:  # a broken filter ends its own subscription only
                _log.exception("subscription filter failed")
                self._hub.remove(subscription)
                subscription.fail_threadsafe(AionError(f"subscription filter failed: {exc}"))
                continue
            if matched:
                by_loop.setdefault(subscription.loop, []).append((subscription, matched))
        for loop, deliveries in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, deliveries)
            except RuntimeError:  # the loop is closed: its subscribers are gone
                for subscription, _ in deliveries:
                    self._hub.remove(subscription)


def _deliver(deliveries: list[tuple[Subscription, list[Published]]]) -> None:
    for subscription, items in deliveries:
        subscription.offer(items)


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
    ) -> Subscription:
        """Attach now: every batch committed from here on is offered to ``accepts``.

        ``workflow_id`` narrows the candidates (an index, not a filter: ``accepts``
        still decides). Raises Unavailable if the broadcast is not running.
        """
        if bound < 1:
            raise ValueError("a subscription needs a buffer of at least one event")
        subscription = Subscription(self._hub, loop, accepts, bound, workflow_id, kind)
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
