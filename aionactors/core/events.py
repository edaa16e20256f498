"""Every event a workflow history can hold, as flat JSON discriminated by ``type``.

Each event carries its place in history (``seq``, contiguous from 1 and shared
by all runs of a workflow), ``recorded_at`` (the clock that ``workflow.now()``
replays) and ``workflow_id``. ``parse_event`` / ``event_json`` are the only
(de)serialisers: the store, the stream and the HTTP API all use them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from aionactors.core.ids import ActivityId, TimerIdField, WorkflowId
from aionactors.core.payload import ActivityError, WorkflowError
from aionactors.core.schedules import ScheduleConfig, SkipReason, TriggerCause
from aionactors.core.search import SearchAttributes
from aionactors.core.timestamps import UtcDatetime


class EventBase(BaseModel):
    """Envelope fields shared by every event."""

    # NaN and Infinity are not JSON: stored as null they would replay as None.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    seq: int = Field(ge=1)
    recorded_at: UtcDatetime
    workflow_id: WorkflowId


class TimerCancelCause(StrEnum):
    WORKFLOW_INTENT = "WorkflowIntent"
    """Workflow code cancelled it (or a with-timeout settled): reopen never re-arms it."""
    CANCEL_TEARDOWN = "CancelTeardown"
    """Cancelling the workflow retired it: reopen re-arms it at its original fire_at."""


class WithTimeoutOutcome(StrEnum):
    OPERATION_COMPLETED = "OperationCompleted"
    TIMED_OUT = "TimedOut"


# --- workflow lifecycle ---------------------------------------------------------------


class WorkflowStarted(EventBase):
    type: Literal["WorkflowStarted"] = "WorkflowStarted"
    workflow_type: str
    input: JsonValue = None
    run_id: str
    parent_run_id: str | None = None
    package_version: str | None = None
    parent_workflow_id: str | None = None
    # The W3C trace context (traceparent, tracestate) of the span that started the run,
    # so activities join the run's trace after a restart (aionactors.tracing); None = untraced.
    trace_context: dict[str, str] | None = None


class WorkflowCompleted(EventBase):
    type: Literal["WorkflowCompleted"] = "WorkflowCompleted"
    result: JsonValue = None


class WorkflowFailed(EventBase):
    type: Literal["WorkflowFailed"] = "WorkflowFailed"
    error: WorkflowError


class WorkflowCancelled(EventBase):
    type: Literal["WorkflowCancelled"] = "WorkflowCancelled"
    reason: str = ""


class WorkflowCancelRequested(EventBase):
    """A cancel was asked for: not an end. The code sees CancelledError where it waits
    and the run ends when its code does (WorkflowCancelled if the cancellation
    propagates out of it, WorkflowCompleted if it returns)."""

    type: Literal["WorkflowCancelRequested"] = "WorkflowCancelRequested"
    reason: str = ""


class WorkflowTimedOut(EventBase):
    type: Literal["WorkflowTimedOut"] = "WorkflowTimedOut"
    timeout: str = "workflow"


class WorkflowContinuedAsNew(EventBase):
    type: Literal["WorkflowContinuedAsNew"] = "WorkflowContinuedAsNew"
    input: JsonValue = None
    workflow_type: str | None = None
    parent_run_id: str


class WorkflowReopened(EventBase):
    type: Literal["WorkflowReopened"] = "WorkflowReopened"
    run_id: str
    reopened: tuple[ActivityId, ...] = ()


class WorkflowPaused(EventBase):
    type: Literal["WorkflowPaused"] = "WorkflowPaused"
    run_id: str
    reason: str | None = None
    operator: str | None = None


class WorkflowResumed(EventBase):
    type: Literal["WorkflowResumed"] = "WorkflowResumed"
    run_id: str
    operator: str | None = None


class SearchAttributesUpdated(EventBase):
    type: Literal["SearchAttributesUpdated"] = "SearchAttributesUpdated"
    attributes: SearchAttributes


# --- activities -----------------------------------------------------------------------


class ActivityScheduled(EventBase):
    type: Literal["ActivityScheduled"] = "ActivityScheduled"
    activity_id: ActivityId
    activity_type: str
    input: JsonValue = None
    task_queue: str = "default"
    node: str | None = None


class ActivityStarted(EventBase):
    type: Literal["ActivityStarted"] = "ActivityStarted"
    activity_id: ActivityId
    attempt: int = Field(default=1, ge=0)


class ActivityCompleted(EventBase):
    type: Literal["ActivityCompleted"] = "ActivityCompleted"
    activity_id: ActivityId
    result: JsonValue = None
    attempt: int = Field(default=1, ge=0)


class ActivityFailed(EventBase):
    type: Literal["ActivityFailed"] = "ActivityFailed"
    activity_id: ActivityId
    error: ActivityError
    attempt: int = Field(ge=0)


class ActivityCancelled(EventBase):
    type: Literal["ActivityCancelled"] = "ActivityCancelled"
    activity_id: ActivityId
    attempt: int = Field(default=1, ge=0)


# --- timers ---------------------------------------------------------------------------


class TimerStarted(EventBase):
    type: Literal["TimerStarted"] = "TimerStarted"
    timer_id: TimerIdField
    fire_at: UtcDatetime


class TimerFired(EventBase):
    type: Literal["TimerFired"] = "TimerFired"
    timer_id: TimerIdField


class TimerCancelled(EventBase):
    type: Literal["TimerCancelled"] = "TimerCancelled"
    timer_id: TimerIdField
    cause: TimerCancelCause = TimerCancelCause.WORKFLOW_INTENT


class WithTimeoutCompleted(EventBase):
    type: Literal["WithTimeoutCompleted"] = "WithTimeoutCompleted"
    timer_id: TimerIdField
    outcome: WithTimeoutOutcome
    result: JsonValue = None


# --- signals --------------------------------------------------------------------------


class SignalReceived(EventBase):
    type: Literal["SignalReceived"] = "SignalReceived"
    name: str
    payload: JsonValue = None


class SignalSent(EventBase):
    type: Literal["SignalSent"] = "SignalSent"
    target_workflow_id: WorkflowId
    name: str
    payload: JsonValue = None


# --- updates --------------------------------------------------------------------------


class UpdateAccepted(EventBase):
    """An update passed its validator; recorded before its handler runs."""

    type: Literal["UpdateAccepted"] = "UpdateAccepted"
    update_id: str
    name: str
    args: list[JsonValue] = Field(default_factory=list)


class UpdateCompleted(EventBase):
    """The handler of update ``update_id`` returned ``result`` or raised ``error``."""

    type: Literal["UpdateCompleted"] = "UpdateCompleted"
    update_id: str
    result: JsonValue = None
    error: WorkflowError | None = None


# --- in-code versioning ---------------------------------------------------------------


class PatchRecorded(EventBase):
    """``workflow.patched(change_id)`` took the new branch (or ``deprecate_patch`` kept it)."""

    type: Literal["PatchRecorded"] = "PatchRecorded"
    change_id: str
    deprecated: bool = False


# --- child workflows ------------------------------------------------------------------


class ChildWorkflowStarted(EventBase):
    type: Literal["ChildWorkflowStarted"] = "ChildWorkflowStarted"
    child_workflow_id: WorkflowId
    workflow_type: str
    input: JsonValue = None
    package_version: str | None = None


class ChildWorkflowCompleted(EventBase):
    type: Literal["ChildWorkflowCompleted"] = "ChildWorkflowCompleted"
    child_workflow_id: WorkflowId
    result: JsonValue = None


class ChildWorkflowFailed(EventBase):
    type: Literal["ChildWorkflowFailed"] = "ChildWorkflowFailed"
    child_workflow_id: WorkflowId
    error: WorkflowError


class ChildWorkflowCancelRequested(EventBase):
    """The parent's code cancelled its wait on the child (a lost race, a failed sibling in
    a gather, a timeout, the parent's own cancel): the child is sent a cancel request."""

    type: Literal["ChildWorkflowCancelRequested"] = "ChildWorkflowCancelRequested"
    child_workflow_id: WorkflowId


class ChildWorkflowCancelled(EventBase):
    type: Literal["ChildWorkflowCancelled"] = "ChildWorkflowCancelled"
    child_workflow_id: WorkflowId


# --- schedules (recorded in the schedule's own history) -------------------------------


class ScheduleCreated(EventBase):
    type: Literal["ScheduleCreated"] = "ScheduleCreated"
    schedule_id: str
    config: ScheduleConfig


class ScheduleUpdated(EventBase):
    type: Literal["ScheduleUpdated"] = "ScheduleUpdated"
    schedule_id: str
    config: ScheduleConfig


class SchedulePaused(EventBase):
    type: Literal["SchedulePaused"] = "SchedulePaused"
    schedule_id: str


class ScheduleResumed(EventBase):
    type: Literal["ScheduleResumed"] = "ScheduleResumed"
    schedule_id: str


class ScheduleDeleted(EventBase):
    type: Literal["ScheduleDeleted"] = "ScheduleDeleted"
    schedule_id: str


class ScheduleTriggered(EventBase):
    """A schedule started a run. The envelope's workflow_id is the schedule's history;
    the started run is ``triggered_workflow_id`` / ``triggered_run_id``."""

    type: Literal["ScheduleTriggered"] = "ScheduleTriggered"
    schedule_id: str
    triggered_workflow_id: WorkflowId
    triggered_run_id: str
    fire_at: UtcDatetime | None = None
    cause: TriggerCause = TriggerCause.SCHEDULED


class ScheduleSkipped(EventBase):
    """Ticks that started no run; ``first_fire_at``..``fire_at`` when a range was skipped."""

    type: Literal["ScheduleSkipped"] = "ScheduleSkipped"
    schedule_id: str
    fire_at: UtcDatetime
    first_fire_at: UtcDatetime | None = None
    reason: SkipReason
    cause: TriggerCause = TriggerCause.SCHEDULED
    detail: str | None = None


class ScheduleBuffered(EventBase):
    """A tick waiting for the current execution to end; it will run as ``triggered_workflow_id``."""

    type: Literal["ScheduleBuffered"] = "ScheduleBuffered"
    schedule_id: str
    fire_at: UtcDatetime
    triggered_workflow_id: WorkflowId
    cause: TriggerCause = TriggerCause.SCHEDULED


class ScheduleExecutionEnded(EventBase):
    """A run this schedule started has ended (Completed, Failed, Cancelled, TimedOut)."""

    type: Literal["ScheduleExecutionEnded"] = "ScheduleExecutionEnded"
    schedule_id: str
    triggered_workflow_id: WorkflowId
    status: str


Event = Annotated[
    WorkflowStarted
    | WorkflowCompleted
    | WorkflowFailed
    | WorkflowCancelled
    | WorkflowCancelRequested
    | WorkflowTimedOut
    | WorkflowContinuedAsNew
    | WorkflowReopened
    | WorkflowPaused
    | WorkflowResumed
    | SearchAttributesUpdated
    | ActivityScheduled
    | ActivityStarted
    | ActivityCompleted
    | ActivityFailed
    | ActivityCancelled
    | TimerStarted
    | TimerFired
    | TimerCancelled
    | WithTimeoutCompleted
    | SignalReceived
    | SignalSent
    | UpdateAccepted
    | UpdateCompleted
    | PatchRecorded
    | ChildWorkflowStarted
    | ChildWorkflowCompleted
    | ChildWorkflowFailed
    | ChildWorkflowCancelled
    | ChildWorkflowCancelRequested
    | ScheduleCreated
    | ScheduleUpdated
    | SchedulePaused
    | ScheduleResumed
    | ScheduleDeleted
    | ScheduleTriggered
    | ScheduleSkipped
    | ScheduleBuffered
    | ScheduleExecutionEnded,
    Field(discriminator="type"),
]
"""Any history event; pydantic picks the class from ``type``."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: dict[str, type[EventBase]] = {
    cls.model_fields["type"].default: cls for cls in EventBase.__subclasses__()
}


def parse_event(data: str | bytes) -> Event:
    """Parse one event from its JSON text; raises pydantic.ValidationError if malformed."""
    return EVENT_ADAPTER.validate_json(data)


def event_from_dict(data: dict[str, object]) -> Event:
    """Validate one event from already-decoded JSON."""
    return EVENT_ADAPTER.validate_python(data)


def event_json(event: EventBase) -> bytes:
    """The event's flat JSON form, as stored and sent on the wire."""
    return event.model_dump_json().encode()


def event_dict(event: EventBase) -> dict[str, object]:
    """The event's flat JSON form as a dict (for embedding in larger messages)."""
    return event.model_dump(mode="json")
