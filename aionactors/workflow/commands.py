"""Commands: what workflow code asks the engine to do, before it is recorded.

The driver emits commands; the workflow actor records each as its event (the
"command event") and then acts on it. During replay the recorded command events
must match the commands the code issues again, in order — otherwise the code
changed under a running workflow (non-determinism).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aionactors.core.ids import TimerId
from aionactors.core.payload import WorkflowError
from aionactors.core.search import SearchAttributes
from aionactors.workflow.retry import RetryPolicy


@dataclass(frozen=True)
class ActivityOptions:
    retry_policy: RetryPolicy | None = None
    start_to_close_timeout: float | None = None
    heartbeat_timeout: float | None = None
    task_queue: str = "default"
    schedule_to_start_timeout: float | None = None


@dataclass(frozen=True)
class ScheduleActivity:
    activity_id: int
    activity_type: str
    input: Any
    options: ActivityOptions


@dataclass(frozen=True)
class RequestCancelActivity:
    activity_id: int


@dataclass(frozen=True)
class StartTimer:
    timer_id: TimerId
    fire_at: datetime


@dataclass(frozen=True)
class CancelTimer:
    timer_id: TimerId


class ParentClosePolicy(StrEnum):
    """What happens to a child still running when its parent's run ends."""

    TERMINATE = "terminate"
    REQUEST_CANCEL = "request_cancel"
    ABANDON = "abandon"


@dataclass(frozen=True)
class StartChild:
    ordinal: int
    child_workflow_id: str
    workflow_type: str
    input: Any
    parent_close_policy: ParentClosePolicy


@dataclass(frozen=True)
class RequestCancelChild:
    child_workflow_id: str


@dataclass(frozen=True)
class SignalExternal:
    target_workflow_id: str
    name: str
    payload: Any


@dataclass(frozen=True)
class UpsertSearchAttributes:
    attributes: SearchAttributes


@dataclass(frozen=True)
class ContinueAsNew:
    input: Any
    workflow_type: str | None


@dataclass(frozen=True)
class CompleteWorkflow:
    result: Any


@dataclass(frozen=True)
class FailWorkflow:
    error: WorkflowError


@dataclass(frozen=True)
class CompleteUpdate:
    """An update's handler finished: record its result (or error) before the caller sees it."""

    update_id: str
    result: Any = None
    error: WorkflowError | None = None


@dataclass(frozen=True)
class RecordPatch:
    change_id: str
    deprecated: bool = False


@dataclass(frozen=True)
class CancelWorkflow:
    """The code let a requested cancellation propagate out of it: the run ends Cancelled."""

    reason: str


Command = (
    ScheduleActivity
    | RequestCancelActivity
    | StartTimer
    | CancelTimer
    | CompleteWorkflow
    | FailWorkflow
    | RecordPatch
    | CancelWorkflow
)


def describe(command: Command) -> str:
    """A short human form for non-determinism messages."""
    match command:
        case ScheduleActivity(activity_id=aid, activity_type=kind):
            return f"ScheduleActivity #{aid} {kind!r}"
        case RequestCancelActivity(activity_id=aid):
            return f"RequestCancelActivity #{aid}"
        case StartTimer(timer_id=tid):
            return f"StartTimer {tid}"
        case CancelTimer(timer_id=tid):
            return f"CancelTimer {tid}"
        case StartChild(child_workflow_id=child, workflow_type=kind):
            return f"StartChild {child!r} {kind!r}"
        case SignalExternal(target_workflow_id=target, name=name):
            return f"SignalExternal {target!r} {name!r}"
        case RequestCancelChild(child_workflow_id=child):
            return f"RequestCancelChild {child!r}"
        case UpsertSearchAttributes():
            return "UpsertSearchAttributes"
        case ContinueAsNew():
            return "ContinueAsNew"
        case CompleteWorkflow():
            return "CompleteWorkflow"
        case FailWorkflow():
            return "FailWorkflow"
        case CompleteUpdate(update_id=update_id):
            return f"CompleteUpdate {update_id!r}"
        case RecordPatch(change_id=change_id):
            return f"RecordPatch {change_id!r}"
        case CancelWorkflow():
            return "CancelWorkflow"
    return repr(command)  # pragma: no cover
