"""Supervision events and the bus that hands them to subscribers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pykka

logger = logging.getLogger("supervision")


class EventKind(StrEnum):
    """What happened to a child or a supervisor."""

    STARTED = "started"
    RESTARTED = "restarted"
    CRASHED = "crashed"
    """Died with an exception (in a tell, in on_start, in its constructor or on_stop)."""
    EXITED = "exited"
    """Stopped normally, by someone other than its supervisor."""
    RESTART_SCHEDULED = "restart_scheduled"
    """A backoff delay started; ``delay`` says how long."""
    TERMINATED = "terminated"
    """Stopped by its supervisor (terminate_child, a group restart, a shutdown)."""
    STOP_TIMEOUT = "stop_timeout"
    """Did not stop within its shutdown timeout; the shutdown went on without it."""
    ESCALATED = "escalated"
    """The supervisor exceeded its restart intensity and fails to its own supervisor."""
    ROOT_FAILED = "root_failed"
    """The root supervisor failed; the embedding application is told via on_root_failure."""
    SHUTDOWN = "shutdown"
    """The supervisor has stopped all its children."""


@dataclass(frozen=True, slots=True)
class SupervisionEvent:
    """One thing that happened in a supervision tree."""

    kind: EventKind
    supervisor: str
    child_id: str | None = None
    exception: BaseException | None = None
    delay: float | None = None
    ref: pykka.ActorRef[Any] | None = field(default=None, repr=False, compare=False)
    timestamp: float = field(default_factory=time.time)


Subscriber = Callable[[SupervisionEvent], None]


class EventBus:
    """Hands every event of a tree to its subscribers, in the emitting supervisor's thread.

    Subscribers must be quick and must not call into the tree (an ``ask`` to the
    supervisor that is emitting would wait on itself). One that raises is logged
    and skipped; it never breaks the supervisor.

    Example::

        bus = EventBus(log_event)
        unsubscribe = bus.subscribe(metrics.record)
    """

    def __init__(self, *subscribers: Subscriber) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = subscribers

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def emit(self, event: SupervisionEvent) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                logger.exception("supervision event subscriber %r raised", subscriber)


_LEVELS = {
    EventKind.CRASHED: logging.WARNING,
    EventKind.STOP_TIMEOUT: logging.WARNING,
    EventKind.ESCALATED: logging.ERROR,
    EventKind.ROOT_FAILED: logging.CRITICAL,
}


def log_event(event: SupervisionEvent) -> None:
    """A subscriber that logs each event to the ``supervision`` logger."""
    level = _LEVELS.get(event.kind, logging.INFO)
    if logger.isEnabledFor(level):
        child = "" if event.child_id is None else f" {event.child_id}"
        failure = "" if event.exception is None else f" ({event.exception!r})"
        logger.log(level, "%s: %s%s%s", event.supervisor, event.kind.value, child, failure)
