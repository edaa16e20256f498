"""Tools for supervision-focused fault-injection tests: inject faults, then wait on events.

Nothing here sleeps to synchronise: ``EventRecorder.wait_for`` blocks on a
condition that every supervision event notifies, and ``ManualClock`` moves
backoff time only when the test says so.

Example::

    recorder = EventRecorder()
    faults = FaultInjector()
    root = Supervisor.start(
        [ChildSpec("db", Database, instrument=faults)], events=EventBus(recorder)
    )
    crash(root.proxy().child_ref("db").get())
    recorder.wait_for(EventKind.RESTARTED, child_id="db")
    recorder.wait_settled(root)
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pykka

from supervision._clock import Cancellable
from supervision._events import EventKind, SupervisionEvent
from supervision._faults import FaultInjector, InjectedFault, crash
from supervision._spec import ChildInfo

__all__ = [
    "EventRecorder",
    "FaultInjector",
    "InjectedFault",
    "ManualClock",
    "crash",
    "crash_child",
]

Where = Callable[[SupervisionEvent], bool]


def crash_child(
    supervisor: pykka.ActorRef[Any], child_id: str, exception: BaseException | None = None
) -> pykka.ActorRef[Any]:
    """Crash a supervisor's running child by id (see ``crash``); returns the crashed ref."""
    ref = supervisor.proxy().child_ref(child_id).get()
    if ref is None:
        raise pykka.ActorDeadError(f"child {child_id!r} is not running")
    crash(ref, exception)
    return ref


class EventRecorder:
    """A subscriber that keeps every event and lets a test wait for the ones it expects."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._events: list[SupervisionEvent] = []

    def __call__(self, event: SupervisionEvent) -> None:
        with self._condition:
            self._events.append(event)
            self._condition.notify_all()

    @property
    def events(self) -> list[SupervisionEvent]:
        with self._condition:
            return list(self._events)

    def mark(self) -> int:
        """A position to pass as ``since``: only later events count."""
        with self._condition:
            return len(self._events)

    def matching(
        self,
        kind: EventKind | None = None,
        *,
        child_id: str | None = None,
        supervisor: str | None = None,
        where: Where | None = None,
        since: int = 0,
    ) -> list[SupervisionEvent]:
        match = _matcher(kind, child_id, supervisor, where)
        with self._condition:
            return [e for e in self._events[since:] if match(e)]

    def wait_for(
        self,
        kind: EventKind | None = None,
        *,
        child_id: str | None = None,
        supervisor: str | None = None,
        where: Where | None = None,
        count: int = 1,
        since: int = 0,
        timeout: float = 5.0,
    ) -> SupervisionEvent:
        """Block until ``count`` matching events happened (after ``since``); return the last."""
        match = _matcher(kind, child_id, supervisor, where)
        deadline = time.monotonic() + timeout
        found = 0
        scanned = since
        with self._condition:
            while True:
                for event in self._events[scanned:]:
                    if match(event):
                        found += 1
                        if found == count:
                            return event
                scanned = max(scanned, len(self._events))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    wanted = kind.value if kind else "event"
                    recent = "\n  ".join(map(repr, self._events[-10:]))
                    msg = f"saw {found} of {count} {wanted} ({child_id=}) in {timeout} s; last:\n  "
                    raise TimeoutError(msg + recent)
                self._condition.wait(remaining)

    def wait_settled(self, supervisor: pykka.ActorRef[Any], timeout: float = 5.0) -> None:
        """Block until no child in the tree is dead-but-unhandled or waiting to restart.

        Settled means: everything the tree has noticed is dealt with. A crash
        still queued in a child's inbox is not noticed yet: wait for its event
        first. A restart waiting on a ``ManualClock`` never settles by itself.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self.mark()
            if _settled(supervisor, timeout):
                return
            with self._condition:
                while len(self._events) == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        msg = f"supervision tree did not settle within {timeout} s"
                        raise TimeoutError(msg)
                    self._condition.wait(remaining)


def _matcher(
    kind: EventKind | None, child_id: str | None, supervisor: str | None, where: Where | None
) -> Where:
    def match(event: SupervisionEvent) -> bool:
        return (
            (kind is None or event.kind == kind)
            and (child_id is None or event.child_id == child_id)
            and (supervisor is None or event.supervisor == supervisor)
            and (where is None or where(event))
        )

    return match


def _settled(supervisor: pykka.ActorRef[Any], timeout: float) -> bool:
    if not supervisor.is_alive():
        return True  # a dead root does nothing more; a dead nested one shows as not alive
    try:
        children: list[ChildInfo] = supervisor.proxy().which_children().get(timeout=timeout)
    except pykka.ActorDeadError:
        return False
    for child in children:
        if child.restarting or (child.ref is not None and not child.alive):
            return False
        if child.is_supervisor and child.ref is not None and not _settled(child.ref, timeout):
            return False
    return True


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "delay", "due")

    def __init__(self, due: float, delay: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.delay = delay
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told: backoff and restart windows without sleeping.

    Example::

        clock = ManualClock()
        sup = Supervisor.start(children, backoff=Backoff(), clock=clock)
        ...
        assert clock.wait_for_pending() == [0.1]   # a restart is scheduled in 0.1 s
        clock.advance(0.1)                         # ... and now it is due
    """

    def __init__(self, start: float = 0.0) -> None:
        self._condition = threading.Condition()
        self._now = start
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        with self._condition:
            return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        with self._condition:
            timer = _ManualTimer(self._now + delay, delay, callback)
            heapq.heappush(self._heap, (timer.due, next(self._order), timer))
            self._condition.notify_all()
        return timer

    @property
    def pending(self) -> list[float]:
        """The delays of the callbacks not yet run nor cancelled, soonest first."""
        with self._condition:
            return [t.delay for _, _, t in sorted(self._heap) if not t.cancelled]

    def wait_for_pending(self, n: int = 1, timeout: float = 5.0) -> list[float]:
        """Block until at least ``n`` callbacks are pending; return their delays."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len([t for _, _, t in self._heap if not t.cancelled]) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = f"fewer than {n} callbacks scheduled within {timeout} s"
                    raise TimeoutError(msg)
                self._condition.wait(remaining)
        return self.pending

    def advance(self, seconds: float) -> int:
        """Move time forward and run the callbacks now due (in this thread); returns how many."""
        with self._condition:
            self._now += seconds
            due: list[_ManualTimer] = []
            while self._heap and self._heap[0][0] <= self._now:
                timer = heapq.heappop(self._heap)[2]
                if not timer.cancelled:
                    due.append(timer)
        for timer in due:
            timer.callback()
        return len(due)
