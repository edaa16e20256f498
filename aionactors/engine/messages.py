"""Messages a workflow actor handles. Tells carry outcomes; asks expect an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aionactors.core.events import Event, WorkflowCompleted, WorkflowFailed, WorkflowTimedOut
from aionactors.core.ids import TimerId
from aionactors.core.payload import WorkflowError
from aionactors.engine.activities import ActivityOutcome


@dataclass(frozen=True)
class ActivityDone:
    """Tell: an activity attempt finished (any outcome)."""

    outcome: ActivityOutcome


@dataclass(frozen=True)
class TimerDue:
    """Tell: a durable timer's fire time has come.

    ``fire_at`` tells a run's timer from an earlier run's timer of the same id
    (ordinals restart with each run)."""

    timer_id: TimerId
    fire_at: datetime


@dataclass(frozen=True)
class ChildDone:
    """Tell: a child workflow ended (or could not start): its result, error, or cancellation."""

    child_workflow_id: str
    result: Any = None
    error: WorkflowError | None = None
    cancelled: bool = False

    @classmethod
    def of(cls, child_workflow_id: str, terminal: Event) -> ChildDone:
        """From the child's terminal event (Completed, Failed, TimedOut or Cancelled)."""
        match terminal:
            case WorkflowCompleted(result=result):
                return cls(child_workflow_id, result=result)
            case WorkflowFailed(error=error):
                return cls(child_workflow_id, error=error)
            case WorkflowTimedOut():
                timed_out = WorkflowError(
                    message="child workflow timed out", type="WorkflowTimedOut"
                )
                return cls(child_workflow_id, error=timed_out)
        return cls(child_workflow_id, cancelled=True)


@dataclass(frozen=True)
class BeginRun:
    """Ask (of a fresh id's actor): run the code's first step on these unrecorded start
    events and append both together; the answer means the start is durable."""

    events: list[Event]


@dataclass(frozen=True)
class DeliverSignal:
    """Ask: record the signal (durable before the answer), then run the handler."""

    name: str
    payload: Any


@dataclass(frozen=True)
class RunQuery:
    """Ask: answer from live state, touching no history."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class RunUpdate:
    """Ask: validate the update on live state, record UpdateAccepted (durable before the
    answer), then run the handler; its outcome is recorded later as UpdateCompleted."""

    update_id: str
    name: str
    args: list[Any]


@dataclass(frozen=True)
class CancelRun:
    """Ask: record WorkflowCancelRequested, tear down timers and activities, then let the
    code compensate and end (``terminate``: record WorkflowCancelled, no further step)."""

    reason: str
    terminate: bool = False


@dataclass(frozen=True)
class PauseRun:
    """Ask: record WorkflowPaused and hold new activity dispatch."""

    reason: str | None
    operator: str | None


@dataclass(frozen=True)
class Ping:
    """Ask: answered once the actor has booted (replayed): recovery paces itself on it."""


@dataclass(frozen=True)
class ResumeRun:
    """Ask: record WorkflowResumed and release held dispatch."""

    operator: str | None
