"""Messages a workflow actor handles. Tells carry outcomes; asks expect an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aionactors.core.ids import TimerId
from aionactors.engine.activities import ActivityOutcome


@dataclass(frozen=True)
class ActivityDone:
    """Tell: an activity attempt finished (any outcome)."""

    outcome: ActivityOutcome


@dataclass(frozen=True)
class TimerDue:
    """Tell: a durable timer's fire time has come."""

    timer_id: TimerId


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
class CancelRun:
    """Ask: record WorkflowCancelled, then tear down timers and activities."""

    reason: str


@dataclass(frozen=True)
class Describe:
    """Ask: what the live run is waiting on (pending activities and timers)."""
