"""Where supervisors read time and schedule delayed restarts.

A delayed restart must not block the supervisor's mailbox, so it is a callback
run later by a clock; tests swap in ``supervision.testing.ManualClock``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger("supervision")


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Time for restart windows and backoff delays."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` (quickly, in some other thread) after ``delay`` seconds."""
        ...


class _Timer:
    __slots__ = ("_on_cancel", "callback", "cancelled", "due")

    def __init__(
        self, due: float, callback: Callable[[], None], on_cancel: Callable[[_Timer], None]
    ) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False
        self._on_cancel = on_cancel

    def cancel(self) -> None:
        # The clock flips ``cancelled`` under its own lock, so a cancel racing the
        # clock thread's pop is counted exactly once.
        self._on_cancel(self)


class SystemClock:
    """Monotonic time, and one daemon thread that runs due callbacks.

    The thread starts with the first pending callback and ends when none is
    left, so an idle tree holds no timer thread at all.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._live = 0
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        timer = _Timer(time.monotonic() + max(0.0, delay), callback, self._cancelled)
        with self._condition:
            heapq.heappush(self._heap, (timer.due, next(self._order), timer))
            self._live += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="supervision-clock", daemon=True
                )
                self._thread.start()
            self._condition.notify()
        return timer

    def _cancelled(self, timer: _Timer) -> None:
        with self._condition:
            if timer.cancelled:
                return
            timer.cancelled = True
            self._live -= 1
            self._condition.notify()

    def _next_due(self) -> _Timer | None:
        """Wait for the next due timer; ``None`` (and the thread ends) when none is left."""
        with self._condition:
            while True:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if self._live == 0:
                    self._heap.clear()
                    self._thread = None
                    return None
                remaining = self._heap[0][0] - time.monotonic()
                if remaining <= 0:
                    timer = heapq.heappop(self._heap)[2]
                    timer.cancelled = True  # fired: a later cancel() is a no-op
                    self._live -= 1
                    return timer
                self._condition.wait(remaining)

    def _run(self) -> None:
        while (timer := self._next_due()) is not None:
            try:
                timer.callback()
            except Exception:
                logger.exception("supervision clock callback %r raised", timer.callback)


SYSTEM_CLOCK = SystemClock()
"""The clock supervisors use unless given another."""
