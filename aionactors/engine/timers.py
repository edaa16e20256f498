"""The timer service: durable timer rows in the store, armed on the engine's clock.

A row is written before a timer is armed and removed only after the owning
workflow has recorded the firing (or the cancel), so a timer that was due while
the engine was down fires at the next start. Firing only tells the workflow;
the workflow decides whether the timer is still wanted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from aionactors.core.ids import TimerId
from aionactors.engine.clock import Cancellable, Clock
from aionactors.store.contract import EventStore

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

Deliver = Callable[[str, TimerId, datetime], None]


class TimerService:
    def __init__(self, store: EventStore, clock: Clock, deliver: Deliver) -> None:
        self._store = store
        self._clock = clock
        self._deliver = deliver
        self._lock = threading.Lock()
        self._armed: dict[str, dict[TimerId, tuple[Cancellable, datetime]]] = {}
        """Per workflow, each armed timer's clock handle and the time it fires."""
        self._closed = False

    def load(self) -> int:
        """Arm every timer row in the store (startup); returns how many."""
        entries = self._store.expired_timers(_FAR_FUTURE)
        for entry in entries:
            self._arm(entry.workflow_id, entry.timer_id, entry.fire_at)
        return len(entries)

    def schedule(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        """Persist the row, then arm it."""
        self._store.schedule_timer(workflow_id, timer_id, fire_at)
        self._arm(workflow_id, timer_id, fire_at)

    def ensure(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        """Schedule the timer unless it is already armed for that time (a replayed run's
        timers usually are: ``load`` armed every stored row at startup)."""
        with self._lock:
            armed = self._armed.get(workflow_id, {}).get(timer_id)
            if armed is not None and armed[1] == fire_at:
                return
        self.schedule(workflow_id, timer_id, fire_at)

    def cancel(self, workflow_id: str, timer_id: TimerId) -> None:
        self._disarm(workflow_id, timer_id)
        self._store.cancel_timer(workflow_id, timer_id)

    forget = cancel
    """After a firing is recorded the row is no longer needed: same as cancelling it."""

    def cancel_all(self, workflow_id: str) -> None:
        with self._lock:
            armed = self._armed.pop(workflow_id, {})
        for timer_id, (handle, _) in armed.items():
            handle.cancel()
            self._store.cancel_timer(workflow_id, timer_id)

    def disarm_where(self, predicate: Callable[[str], bool]) -> int:
        """Disarm the timers of matching workflows, leaving their rows for whoever runs
        them next (a cluster node handing a shard over); returns how many."""
        with self._lock:
            matching = [w for w in self._armed if predicate(w)]
            armed = [self._armed.pop(w) for w in matching]
        for timers in armed:
            for handle, _ in timers.values():
                handle.cancel()
        return sum(len(timers) for timers in armed)

    def armed_count(self) -> int:
        with self._lock:
            return sum(len(timers) for timers in self._armed.values())

    def _arm(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        def fire() -> None:
            with self._lock:
                if self._closed:
                    return
                timers = self._armed.get(workflow_id, {})
                entry = timers.get(timer_id)
                if entry is None or entry[0] is not handle:
                    return
                # Fired is no longer armed: if the firing is lost (the actor crashed with it
                # in its mailbox), the replayed run's ``ensure`` arms it again.
                del timers[timer_id]
                if not timers:
                    del self._armed[workflow_id]
            self._deliver(workflow_id, timer_id, fire_at)

        with self._lock:
            if self._closed:
                return
            previous = self._armed.setdefault(workflow_id, {}).pop(timer_id, None)
            handle = self._clock.call_at(fire_at, fire)
            self._armed[workflow_id][timer_id] = (handle, fire_at)
        if previous is not None:
            previous[0].cancel()

    def _disarm(self, workflow_id: str, timer_id: TimerId) -> None:
        with self._lock:
            timers = self._armed.get(workflow_id)
            entry = timers.pop(timer_id, None) if timers else None
            if timers is not None and not timers:
                del self._armed[workflow_id]
        if entry is not None:
            entry[0].cancel()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            armed, self._armed = self._armed, {}
        for timers in armed.values():
            for handle, _ in timers.values():
                handle.cancel()
