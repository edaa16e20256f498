"""The timer service: durable timer rows in the store, armed on the engine's clock.

A timer's row is written in the same transaction as its TimerStarted and removed
with its TimerFired, its TimerCancelled or its run's end (``store.indexes``), so a
timer that was due while the engine was down fires at the next start, and
recovery arms every timer from rows without replaying a history. Firing only
tells the workflow; the workflow decides whether the timer is still wanted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from aionactors.core.ids import TimerId
from aionactors.engine.clock import Cancellable, Clock
from aionactors.store.contract import EventStore

Deliver = Callable[[str, TimerId, datetime], None]


class TimerService:
    def __init__(
        self, store: EventStore, clock: Clock, deliver: Deliver, horizon: float = 600.0
    ) -> None:
        self._store = store
        self._clock = clock
        self._deliver = deliver
        self._horizon = timedelta(seconds=horizon)
        self._lock = threading.Lock()
        self._armed: dict[str, dict[TimerId, tuple[Cancellable, datetime]]] = {}
        """Per workflow, each armed timer's clock handle and the time it fires."""
        self._closed = False
        self._next_load: Cancellable | None = None

    def load(self) -> int:
        """Arm the stored timers due within the horizon, and look again at half of it
        (startup, then periodically); returns how many were newly armed."""
        now = self._clock.now()
        armed = 0
        for entry in self._store.expired_timers(now + self._horizon):
            with self._lock:
                current = self._armed.get(entry.workflow_id, {}).get(entry.timer_id)
            if current is None or current[1] != entry.fire_at:
                self.arm(entry.workflow_id, entry.timer_id, entry.fire_at)
                armed += 1
        with self._lock:
            previous, self._next_load = self._next_load, None
            if not self._closed:  # one chain of looks, however often load is called
                self._next_load = self._clock.call_at(now + self._horizon / 2, self._reload)
        if previous is not None:
            previous.cancel()
        return armed

    def _reload(self) -> None:
        self.load()

    def schedule(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        """Persist the row, then arm it (for a timer whose row its event did not write)."""
        self._store.schedule_timer(workflow_id, timer_id, fire_at)
        self.arm(workflow_id, timer_id, fire_at)

    def ensure(
        self, workflow_id: str, timer_id: TimerId, fire_at: datetime, *, persist: bool
    ) -> None:
        """Arm the timer unless it is already armed for that time (a replayed run's timers
        near due are: ``load`` armed them from their rows); ``persist`` writes its row too,
        for a timer whose row its run's end removed (a reopen re-arms it)."""
        with self._lock:
            armed = self._armed.get(workflow_id, {}).get(timer_id)
            if armed is not None and armed[1] == fire_at:
                return
        if persist:
            self.schedule(workflow_id, timer_id, fire_at)
        else:
            self.arm(workflow_id, timer_id, fire_at)

    def cancel(self, workflow_id: str, timer_id: TimerId) -> None:
        """Disarm and delete the row (one no event will settle)."""
        self.disarm(workflow_id, timer_id)
        self._store.cancel_timer(workflow_id, timer_id)

    def cancel_all(self, workflow_id: str, *, rows: bool) -> None:
        """Disarm every timer of a workflow; ``rows`` deletes their rows too (a run's end
        already removed them in its append: nothing to delete then)."""
        with self._lock:
            armed = self._armed.pop(workflow_id, {})
        for timer_id, (handle, _) in armed.items():
            handle.cancel()
            if rows:
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

    def arm(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        """Arm a timer in memory only: its row was written with its TimerStarted
        (``store.indexes``)."""

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

    def disarm(self, workflow_id: str, timer_id: TimerId) -> None:
        """Forget an armed timer, leaving its row (its TimerFired or TimerCancelled removes
        it)."""
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
            if self._next_load is not None:
                self._next_load.cancel()
        for timers in armed.values():
            for handle, _ in timers.values():
                handle.cancel()
