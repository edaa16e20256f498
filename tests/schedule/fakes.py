"""In-memory seams for driving one schedule actor directly, like the reference evaluator tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aionactors.core.errors import SequenceConflict, WorkflowTypeNotFound
from aionactors.core.events import Event
from aionactors.core.ids import new_id
from aionactors.core.schedules import ScheduleConfig
from aionactors.schedule import Seams, StartedRun
from aionactors.schedule import messages as msg
from aionactors.schedule.actor import ScheduleActor, ScheduleRuntime
from aionactors.schedule.directory import Directory
from aionactors.schedule.state import HISTORY_PREFIX


@dataclass
class _Handle:
    when: datetime
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeTimer:
    current: datetime
    handles: list[_Handle] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    def arm(self, when: datetime, callback: Callable[[], None]) -> _Handle:
        handle = _Handle(when, callback)
        self.handles.append(handle)
        return handle

    @property
    def armed(self) -> list[datetime]:
        return [h.when for h in self.handles if not h.cancelled]

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        for handle in list(self.handles):
            if not handle.cancelled and handle.when <= self.current:
                handle.cancelled = True
                handle.callback()


@dataclass
class FakeStarter:
    runs: dict[str, StartedRun] = field(default_factory=dict)
    starts: list[str] = field(default_factory=list)

    def find(self, workflow_id: str) -> StartedRun | None:
        return self.runs.get(workflow_id)

    def start(self, workflow_id: str, schedule_id: str, config: ScheduleConfig) -> StartedRun:
        if config.workflow_type == "missing":
            raise WorkflowTypeNotFound(config.workflow_type)
        run = self.runs.get(workflow_id)
        if run is None:
            run = self.runs[workflow_id] = StartedRun(workflow_id, new_id())
            self.starts.append(workflow_id)
        return run

    def end(self, workflow_id: str, status: str = "Completed") -> None:
        run = self.runs[workflow_id]
        self.runs[workflow_id] = StartedRun(run.workflow_id, run.run_id, status)


@dataclass
class FakeCanceller:
    starter: FakeStarter
    calls: list[tuple[str, bool]] = field(default_factory=list)

    def cancel(self, workflow_id: str, reason: str, *, terminate: bool) -> None:
        self.calls.append((workflow_id, terminate))
        self.starter.end(workflow_id, "Cancelled")


class MemoryHistories:
    def __init__(self) -> None:
        self.histories: dict[str, list[Event]] = {}
        self._lock = threading.Lock()

    def append(self, history_id: str, events: Sequence[Event], expected_seq: int) -> None:
        with self._lock:
            history = self.histories.setdefault(history_id, [])
            if len(history) != expected_seq:
                raise SequenceConflict(history_id, expected_seq, len(history))
            history.extend(events)

    def read_history(self, history_id: str) -> list[Event]:
        with self._lock:
            return list(self.histories.get(history_id, []))

    def schedule_ids(self) -> list[str]:
        return [h.removeprefix(HISTORY_PREFIX) for h in self.histories]

    def types(self, schedule_id: str) -> list[str]:
        return [e.type for e in self.read_history(f"{HISTORY_PREFIX}{schedule_id}")]


class Evaluator:
    """One schedule actor over fake seams; ``ask`` is a barrier behind delivered wakes."""

    def __init__(self, now: datetime, histories: MemoryHistories | None = None) -> None:
        self.timer = FakeTimer(now)
        self.starter = FakeStarter()
        self.canceller = FakeCanceller(self.starter)
        self.histories = histories or MemoryHistories()
        self.seams = Seams(self.timer, self.starter, self.canceller, self.histories, self.histories)
        self.runtime = ScheduleRuntime(self.seams, Directory(), 20, 10_000, 1_000)
        self.ref: Any = None

    def start(self, schedule_id: str = "s") -> Evaluator:
        self.ref = ScheduleActor.start(self.runtime, schedule_id)
        return self

    def ask(self, message: Any) -> Any:
        return self.ref.ask(message, timeout=20)

    def describe(self) -> Any:
        return self.ask(msg.Describe(3))

    def tick(self, seconds: float) -> Any:
        self.timer.advance(seconds)
        return self.describe()

    def ended(self, workflow_id: str, status: str = "Completed") -> Any:
        self.starter.end(workflow_id, status)
        self.ref.tell(msg.RunEnded(workflow_id, status))
        return self.describe()

    def restart(self, schedule_id: str = "s") -> Evaluator:
        """A new evaluator over the same histories and runs, as after a process restart."""
        self.stop()
        return self.start(schedule_id)

    def stop(self) -> None:
        if self.ref is not None and self.ref.is_alive():
            self.ref.stop()
