"""Schedule test plumbing: an engine + Schedules on a SQLite file, a manual clock, waits on commits.

Nothing here sleeps: waits wake on every commit and re-check the store, and an
ask to a schedule actor (``settle``) is a barrier behind the ticks the clock
has already told it about.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aionactors import Engine
from aionactors.core.events import Event, ScheduleTriggered
from aionactors.engine.clock import ManualClock
from aionactors.schedule import Schedules, ScheduleState, Seams, engine_seams
from aionactors.store import SQLiteStore
from tests.engine.support import CommitWatch
from tests.schedule.workflows import Quick, Waiter

T0 = datetime(2026, 1, 1, tzinfo=UTC)
"""Tests start here: a Thursday, on a minute boundary."""
WAIT = 20.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def every(seconds: float, workflow_type: str = "sched_waiter", **fields: Any) -> dict[str, Any]:
    """A config dict for an interval schedule (PROTOCOL.md's create body)."""
    return {"spec": {"every_seconds": seconds}, "workflow_type": workflow_type, **fields}


class Harness:
    """An engine and its Schedules over one SQLite file; ``restart`` reopens both on it."""

    def __init__(
        self,
        path: Path,
        clock: ManualClock,
        wrap_seams: Callable[[Seams], Seams] | None = None,
        **schedule_options: Any,
    ) -> None:
        self.path = path
        self.clock = clock
        self.wrap_seams = wrap_seams
        self.options = schedule_options
        self.engine: Engine
        self.schedules: Schedules
        self.watch: CommitWatch
        self.open()

    def open(self) -> None:
        self.engine = Engine.open(
            SQLiteStore(self.path), clock=self.clock, workflows=[Quick, Waiter], schedules=False
        )  # the harness runs its own Schedules (with seams it may wrap)
        self.watch = CommitWatch(self.engine)
        seams = engine_seams(self.engine)
        if self.wrap_seams is not None:
            seams = self.wrap_seams(seams)
        self.schedules = Schedules.start(self.engine, seams=seams, **self.options)

    def close(self) -> None:
        self.schedules.stop()
        self.engine.shutdown()

    def restart(self, downtime: float = 0) -> None:
        """Stop everything, let ``downtime`` seconds pass with nothing running, reopen."""
        self.close()
        if downtime:
            self.clock.advance(downtime)
        self.open()

    # ---- reading schedule histories -------------------------------------------------------
    def history(self, schedule_id: str) -> list[Event]:
        return self.engine.store.read_history(f"schedule:{schedule_id}")

    def events(self, schedule_id: str, event_type: str) -> list[Any]:
        return [e for e in self.history(schedule_id) if e.type == event_type]

    def triggered(self, schedule_id: str) -> list[ScheduleTriggered]:
        return self.events(schedule_id, "ScheduleTriggered")

    def fired_at(self, schedule_id: str) -> list[datetime]:
        return [e.fire_at for e in self.triggered(schedule_id)]

    def until(self, schedule_id: str, done: Callable[[list[Event]], bool]) -> list[Event]:
        return self.watch.until(f"schedule:{schedule_id}", done, timeout=WAIT)

    def wait_count(self, schedule_id: str, event_type: str, count: int) -> list[Any]:
        self.until(schedule_id, lambda h: sum(e.type == event_type for e in h) >= count)
        return self.events(schedule_id, event_type)

    def settle(self, schedule_id: str) -> ScheduleState:
        """Describe: answered after every tick the clock has already delivered."""
        return self.schedules.describe(schedule_id)

    def tick(self, seconds: float, schedule_id: str) -> ScheduleState:
        self.clock.advance(seconds)
        return self.settle(schedule_id)

    # ---- the runs ----------------------------------------------------------------------------
    def finish(self, workflow_id: str) -> None:
        """Let a Waiter run end, and wait until its schedule has recorded that."""
        self.engine.signal(workflow_id, "finish")
        schedule_id = workflow_id.split("/", 1)[0]
        self.until(
            schedule_id,
            lambda h: any(
                e.type == "ScheduleExecutionEnded" and e.triggered_workflow_id == workflow_id
                for e in h
            ),
        )

    def status(self, workflow_id: str) -> str:
        return self.engine.describe(workflow_id).summary.status.value
