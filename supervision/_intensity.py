"""Restart intensity: how many restarts a supervisor allows within a sliding period."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class RestartWindow:
    """Remembers recent restart times; more than ``max_restarts`` within ``period`` is too many."""

    __slots__ = ("_now", "_times", "max_restarts", "period")

    def __init__(self, max_restarts: int, period: float, now: Callable[[], float]) -> None:
        if max_restarts < 0 or period <= 0:
            msg = "restart intensity needs max_restarts >= 0 and period > 0"
            raise ValueError(msg)
        self.max_restarts = max_restarts
        self.period = period
        self._now = now
        self._times: deque[float] = deque(maxlen=max_restarts + 1)

    def allow(self) -> bool:
        """Record one restart now; ``False`` when it is one too many."""
        now = self._now()
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        self._times.append(now)
        return len(self._times) <= self.max_restarts
