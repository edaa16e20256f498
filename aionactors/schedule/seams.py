"""The evaluator's seams (as in the reference): timer, starter, canceller, event sink, source.

The schedule actor only talks to the world through these, so tests can put a
fault between "started" and "recorded", and the package never imports the
engine (the engine imports it). :func:`engine_seams` builds them over an Engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aionactors.core.errors import AionError, AlreadyExists, NotRunning, WorkflowNotFound
from aionactors.core.events import Event
from aionactors.core.schedules import ScheduleConfig
from aionactors.core.search import NAMESPACE_ATTRIBUTE, SearchAttributes, StringValue
from aionactors.core.visibility import WorkflowSummary
from aionactors.core.workflow_keys import public_id
from aionactors.schedule.state import HISTORY_PREFIX

SCHEDULE_ID_ATTRIBUTE = "aion.schedule_id"
"""String search attribute on every run a schedule starts."""

ENDED_STATUSES = frozenset({"Completed", "Failed", "Cancelled", "TimedOut"})
"""Statuses that end a schedule's execution. ContinuedAsNew does not: the run goes on."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run started under a tick's workflow id (now, or by an evaluator before a crash)."""

    workflow_id: str
    run_id: str
    status: str = "Running"

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES


class TickTimer(Protocol):
    """Time, and a callback at a time. The callback must only enqueue."""

    def now(self) -> datetime: ...

    def arm(self, when: datetime, callback: Callable[[], None]) -> Cancellable: ...


class WorkflowStarter(Protocol):
    def find(self, workflow_id: str) -> StartedRun | None:
        """The run under this id, if one was ever started (with its current status)."""
        ...

    def start(self, workflow_id: str, schedule_id: str, config: ScheduleConfig) -> StartedRun:
        """Start the schedule's workflow under ``workflow_id``, or return the one already there."""
        ...


class WorkflowCanceller(Protocol):
    def cancel(self, workflow_id: str, reason: str, *, terminate: bool) -> None:
        """Cancel a run (a no-op if it already ended)."""
        ...


class EventSink(Protocol):
    def append(self, history_id: str, events: Sequence[Event], expected_seq: int) -> None: ...


class EventSource(Protocol):
    def read_history(self, history_id: str) -> list[Event]: ...

    def schedule_ids(self) -> list[str]:
        """Every schedule that has a history (deleted ones included)."""
        ...


@dataclass(frozen=True, slots=True)
class Seams:
    timer: TickTimer
    starter: WorkflowStarter
    canceller: WorkflowCanceller
    sink: EventSink
    source: EventSource


# ---- the engine-backed implementations --------------------------------------------------------


class EngineLike(Protocol):
    """What the schedule package needs of :class:`aionactors.Engine` (it must not import it)."""

    store: Any
    writer: Any
    clock: Any
    registry: Any
    schema: Any

    def start_workflow(self, workflow: str | type, arg: Any = None, **options: Any) -> Any: ...

    def cancel(
        self, workflow_id: str, reason: str | None = None, *, terminate: bool = False
    ) -> None: ...

    def add_commit_listener(self, listener: Callable[[Sequence[Event]], None]) -> None: ...

    def result(self, workflow_id: str, timeout: float | None = None) -> Any: ...


class _ClockTimer:
    def __init__(self, clock: Any) -> None:
        self._clock = clock

    def now(self) -> datetime:
        now: datetime = self._clock.now()
        return now

    def arm(self, when: datetime, callback: Callable[[], None]) -> Cancellable:
        handle: Cancellable = self._clock.call_at(when, callback)
        return handle


class _EngineStarter:
    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine

    def find(self, workflow_id: str) -> StartedRun | None:
        summary: WorkflowSummary | None = self._engine.store.get_summary(workflow_id)
        if summary is None:
            return None
        return StartedRun(workflow_id, summary.run_id, summary.status.value)

    def start(self, workflow_id: str, schedule_id: str, config: ScheduleConfig) -> StartedRun:
        attributes: SearchAttributes = {
            name: value
            for name, value in config.search_attributes.items()
            if name != NAMESPACE_ATTRIBUTE  # the engine stamps it from `namespace`
        }
        attributes[SCHEDULE_ID_ATTRIBUTE] = StringValue(data=schedule_id)
        try:
            handle = self._engine.start_workflow(
                config.workflow_type,
                config.input,
                workflow_id=public_id(workflow_id),  # the key, as the schedule names runs
                namespace=config.namespace,
                search_attributes=attributes,
            )
        except AlreadyExists:
            found = self.find(workflow_id)
            if found is None:
                raise
            return found
        return StartedRun(handle.workflow_id, handle.run_id)


CANCEL_WAIT_SECONDS = 10.0
"""How long cancel_previous waits for a cancelled run's compensation before it starts the
next run anyway (the previous run then stays current until it ends)."""


class _EngineCanceller:
    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine

    def cancel(self, workflow_id: str, reason: str, *, terminate: bool) -> None:
        # A run that ended on its own meanwhile has nothing left to cancel.
        with contextlib.suppress(NotRunning, WorkflowNotFound):
            self._engine.cancel(workflow_id, reason, terminate=terminate)
        if not terminate:
            # A cancel is a request: the run ends when its code has compensated. Wait for
            # that (bounded), so the previous run has ended before the next one starts.
            with contextlib.suppress(AionError):
                self._engine.result(workflow_id, timeout=CANCEL_WAIT_SECONDS)


class _EngineHistories:
    def __init__(self, engine: EngineLike) -> None:
        self._engine = engine

    def append(self, history_id: str, events: Sequence[Event], expected_seq: int) -> None:
        self._engine.writer.append(history_id, events, expected_seq)

    def read_history(self, history_id: str) -> list[Event]:
        history: list[Event] = self._engine.store.read_history(history_id)
        return history

    def schedule_ids(self) -> list[str]:
        ids: list[str] = self._engine.store.list_workflow_ids(HISTORY_PREFIX)
        return sorted(i[len(HISTORY_PREFIX) :] for i in ids)


def engine_seams(engine: EngineLike) -> Seams:
    histories = _EngineHistories(engine)
    return Seams(
        timer=_ClockTimer(engine.clock),
        starter=_EngineStarter(engine),
        canceller=_EngineCanceller(engine),
        sink=histories,
        source=histories,
    )
