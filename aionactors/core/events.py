"""Every event a workflow history can hold, as flat JSON discriminated by ``type``.

Each event carries its place in history (``seq``, contiguous from 1 and shared
by all runs of a workflow), ``recorded_at`` (the clock that ``workflow.now()``
replays) and ``workflow_id``. ``parse_event`` / ``event_json`` are the only
(de)serialisers: the store, the stream and the HTTP API all use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, TypeAdapter
from pydantic_core import PydanticUndefined

from aionactors.core.ids import ActivityId, TimerId, TimerIdField, WorkflowId
from aionactors.core.payload import ActivityError, WorkflowError
from aionactors.core.schedules import ScheduleConfig, SkipReason, TriggerCause
from aionactors.core.search import SearchAttributes
from aionactors.core.timestamps import UtcDatetime, as_utc


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


# --- trusted decoding: our own store's rows --------------------------------------------
#
# Rows the store wrote from validated events need no second validation: decoding them is
# json.loads plus building each object the way pydantic's ``model_construct`` does (same
# __dict__, same fields set, so equal to the validated parse). A class whose fields this
# cannot convert exactly (search attributes, schedule configs) is parsed with validation.

_Convert = Callable[[Any], Any]
_SetAttr = object.__setattr__


class UntrustedRow(ValueError):
    """A stored row that trusted decoding cannot build: the caller validates it instead."""


def _utc_from_json(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is UTC else as_utc(value)


def _optional(convert: _Convert) -> _Convert:
    return lambda value: None if value is None else convert(value)


_IDENTITY_TYPES: tuple[object, ...] = (
    int,
    str,
    bool,
    JsonValue,
    str | None,
    dict[str, str] | None,
    list[JsonValue],
)
"""Annotations whose JSON value is already the validated Python value."""


class _Plan:
    """How to build one model class from its decoded JSON without validating."""

    __slots__ = ("build", "cls", "converters", "factories", "fields", "required", "template")

    def __init__(self, cls: type[BaseModel]) -> None:
        if cls.__private_attributes__ or cls.__pydantic_post_init__:
            raise TypeError(f"{cls.__name__} has private attributes or a post-init")
        if cls.model_config.get("extra") == "allow":
            raise TypeError(f"{cls.__name__} keeps extra fields")
        self.cls = cls
        self.template: dict[str, Any] = {}
        self.converters: list[tuple[str, _Convert]] = []
        self.factories: list[tuple[str, Callable[[], Any]]] = []
        required: set[str] = set()
        for name, info in cls.model_fields.items():
            if info.alias is not None or info.validation_alias is not None:
                raise TypeError(f"{cls.__name__}.{name} has an alias")
            convert = _converter(info.annotation, info.metadata)
            if convert is not None:
                self.converters.append((name, convert))
            self.template[name] = None if info.default is PydanticUndefined else info.default
            if info.default_factory is not None:
                self.factories.append((name, info.default_factory))  # type: ignore[arg-type]
            elif info.is_required():
                required.add(name)
        self.fields = frozenset(cls.model_fields)
        self.required = frozenset(required)
        self.build: Callable[[dict[str, Any]], Any] = self._complete_builder()

    def _complete_builder(self) -> Callable[[dict[str, Any]], Any]:
        """The hot path, for a row holding every field in declaration order (as
        ``event_json`` writes them): the decoded dict, its values converted in place,
        becomes the model's ``__dict__``. Other rows go through :meth:`build_partial`."""
        cls, order, partial = self.cls, tuple(self.cls.model_fields), self.build_partial
        # recorded_at, in every event, is converted inline: one call fewer per event.
        converters = tuple(c for c in self.converters if c != ("recorded_at", _utc_from_json))
        stamped = len(converters) < len(self.converters)

        def build(  # the defaults bind as locals: this runs once per event read
            data: dict[str, Any],
            cls: type[BaseModel] = cls,
            new: Callable[[type[BaseModel]], BaseModel] = cls.__new__,
            order: tuple[str, ...] = order,
            converters: tuple[tuple[str, _Convert], ...] = converters,
            set_attr: Callable[[object, str, object], None] = _SetAttr,
            fields: frozenset[str] = self.fields,  # copied from a set: no rehashing
            stamped: bool = stamped,
            timestamp: Callable[[str], datetime] = datetime.fromisoformat,
        ) -> Any:
            if tuple(data) != order:
                return partial(data)
            if stamped:
                at = timestamp(data["recorded_at"])
                data["recorded_at"] = at if at.tzinfo is UTC else as_utc(at)
            for name, convert in converters:
                data[name] = convert(data[name])
            model = new(cls)
            set_attr(model, "__dict__", data)
            set_attr(model, "__pydantic_fields_set__", set(fields))
            set_attr(model, "__pydantic_extra__", None)
            set_attr(model, "__pydantic_private__", None)
            return model

        return build

    def build_partial(self, data: dict[str, Any]) -> Any:
        """A row that leaves fields out (written before they existed): their defaults."""
        keys = data.keys()
        if not (keys <= self.fields and self.required <= keys):
            raise UntrustedRow(f"fields {sorted(keys)} do not fit {self.cls.__name__}")
        values = dict(self.template)  # every field, in declaration order
        values.update(data)
        for name, convert in self.converters:
            if name in data:
                values[name] = convert(data[name])
        for name, factory in self.factories:
            if name not in data:
                values[name] = factory()
        model = self.cls.__new__(self.cls)
        _SetAttr(model, "__dict__", values)
        _SetAttr(model, "__pydantic_fields_set__", set(keys))
        _SetAttr(model, "__pydantic_extra__", None)
        _SetAttr(model, "__pydantic_private__", None)
        return model


def _converter(annotation: Any, metadata: Sequence[Any]) -> _Convert | None:
    """What turns this field's JSON value into its validated value (None: nothing);
    TypeError when trusted decoding cannot reproduce validation for it."""
    if annotation is datetime:
        if any(isinstance(m, AfterValidator) and m.func is as_utc for m in metadata):
            return _utc_from_json
        raise TypeError("a datetime field that is not UtcDatetime")
    if any(annotation == known for known in _IDENTITY_TYPES) or get_origin(annotation) is Literal:
        return None
    if annotation is TimerId:
        return TimerId.parse
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Plan(annotation).build
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and not _converts(args[0]):
        return tuple
    if origin in (Union, UnionType) and len(args) == 2 and args[1] is NoneType:
        inner = _converter(*_unwrap(args[0]))
        if inner is not None:
            return _optional(inner)
    raise TypeError(f"no trusted decoding for {annotation!r}")


def _converts(annotation: Any) -> bool:
    return _converter(*_unwrap(annotation)) is not None


def _unwrap(annotation: Any) -> tuple[Any, Sequence[Any]]:
    """An ``Annotated[T, ...]`` as (T, its metadata, FieldInfo constraints included)."""
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        metadata: list[Any] = []
        for extra in extras:
            metadata.extend(getattr(extra, "metadata", [extra]))
        return base, metadata
    return annotation, ()


def _plan_or_none(cls: type[BaseModel]) -> _Plan | None:
    try:
        return _Plan(cls)
    except TypeError:
        return None


TRUSTED_PLANS: dict[str, _Plan] = {
    name: plan for name, cls in EVENT_TYPES.items() if (plan := _plan_or_none(cls)) is not None
}
"""Event types that trusted decoding builds directly; the others are validated."""

_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    name: TRUSTED_PLANS[name].build if name in TRUSTED_PLANS else EVENT_ADAPTER.validate_python
    for name in EVENT_TYPES
}


def trusted_event(data: dict[str, Any]) -> Event:
    """Build an event from the decoded JSON our own store wrote, without validating it.

    Raises UntrustedRow, or the converters' ValueError, KeyError or TypeError, for a
    row that does not fit; the store then parses it with validation, which says what
    is wrong. The dict becomes the event's ``__dict__``: pass one nothing else holds.
    """
    event: Event = _BUILDERS[data["type"]](data)
    return event


def decode_rows(states: Sequence[bytes]) -> list[Any]:
    """Many stored rows' JSON in one ``json.loads`` (joined into one array); UntrustedRow
    if they do not decode to one value each."""
    if not states:
        return []
    decoded: list[Any] = json.loads(b"[" + b",".join(states) + b"]")
    if len(decoded) != len(states):
        raise UntrustedRow("rows did not decode one value each")
    return decoded


def build_trusted(decoded: list[dict[str, Any]]) -> list[Event]:
    """:func:`trusted_event` over many decoded rows (their dicts become the events')."""
    builders = _BUILDERS
    return [builders[data["type"]](data) for data in decoded]


def trusted_events(states: Sequence[bytes]) -> list[Event]:
    """Decode many stored rows at once: see :func:`decode_rows` and :func:`trusted_event`."""
    return build_trusted(decode_rows(states))
