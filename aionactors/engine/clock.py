"""Clocks: the one source of time for timers, retries and timeouts.

``SystemClock`` runs callbacks on one scheduler thread at wall-clock times.
``ManualClock`` never moves by itself: tests ``advance()`` it and due callbacks
run at once, in fire-time order, so nothing in a test has to sleep.
Callbacks must be quick (they tell an actor or set a flag) and must not raise.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from aionactors.core.timestamps import utc_now

_log = logging.getLogger(__name__)


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Time as the engine sees it."""

    def now(self) -> datetime: ...

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancellable: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...

    def close(self) -> None: ...


class _Entry:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: datetime, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _Agenda:
    """A heap of callbacks by due time, with a stable tie order."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, _Entry]] = []
        self._order = itertools.count()

    def push(self, entry: _Entry) -> None:
        heapq.heappush(self._heap, (entry.when, next(self._order), entry))

    def pop_due(self, now: datetime) -> _Entry | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        if self._heap and self._heap[0][0] <= now:
            return heapq.heappop(self._heap)[2]
        return None

    def next_due(self) -> datetime | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None


def _run(entry: _Entry) -> None:
    try:
        entry.callback()
    except Exception:  # a clock must outlive a faulty callback
        _log.exception("clock callback failed")


class ManualClock:
    """A clock that only moves when told to; due callbacks run inside ``advance``.

    A callback asked for a time that has already come (``when <= now``) runs at
    once on the clock's own helper thread, as it would on a real clock, so work
    armed "late" is never stranded until the next ``advance``.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utc_now()
        self._agenda = _Agenda()
        self._lock = threading.RLock()
        self._immediate: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancellable:
        entry = _Entry(when, callback)
        with self._lock:
            if when > self._now:
                self._agenda.push(entry)
                return entry
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run_immediate, name="aionactors-manual-clock", daemon=True
                )
                self._worker.start()
        self._immediate.put(entry)
        return entry

    def _run_immediate(self) -> None:
        while (entry := self._immediate.get()) is not None:
            if not entry.cancelled:
                _run(entry)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return self.call_at(self.now() + timedelta(seconds=delay), callback)

    def advance(self, delta: timedelta | float) -> None:
        """Move time forward, running every callback that comes due, in order."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            target = self._now + step
        self.set(target)

    def set(self, target: datetime) -> None:
        while True:
            with self._lock:
                entry = self._agenda.pop_due(target)
                if entry is None:
                    self._now = max(self._now, target)
                    return
                self._now = max(self._now, entry.when)
            _run(entry)

    def close(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._immediate.put(None)
            if threading.current_thread() is not worker:
                worker.join(timeout=5)


class SystemClock:
    """Wall-clock time; callbacks run on one daemon scheduler thread."""

    def __init__(self) -> None:
        self._agenda = _Agenda()
        self._wakeup = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="aionactors-clock", daemon=True)
        self._thread.start()

    def now(self) -> datetime:
        return utc_now()

    def call_at(self, when: datetime, callback: Callable[[], None]) -> Cancellable:
        entry = _Entry(when, callback)
        with self._wakeup:
            self._agenda.push(entry)
            self._wakeup.notify()
        return entry

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return self.call_at(utc_now() + timedelta(seconds=delay), callback)

    def _loop(self) -> None:
        while True:
            with self._wakeup:
                if self._closed:
                    return
                entry = self._agenda.pop_due(utc_now())
                if entry is None:
                    due = self._agenda.next_due()
                    timeout = None if due is None else max((due - utc_now()).total_seconds(), 0)
                    self._wakeup.wait(timeout)
                    continue
            _run(entry)

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
