"""Request and response bodies of every route, as pydantic models.

The same models validate requests (strict, unknown fields forbidden) and
generate ``/openapi.json``, so the document cannot drift from the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, model_validator

from aionactors import Event, WorkflowStatus, WorkflowSummary
from aionactors.core import RunSummary
from aionactors.core.search import Predicate
from aionactors.core.timestamps import UtcDatetime

WORKFLOW_ID_MAX = 255
MAX_WAIT_MS = 600_000
HISTORY_PAGE_DEFAULT = 500
HISTORY_PAGE_MAX = 2000

_STATUS_NAMES = {s.value.lower(): s.value for s in WorkflowStatus} | {"canceled": "Cancelled"}


def _status_name(value: Any) -> Any:
    """Accept ``Completed``, ``completed``, ``timed_out``, ``canceled``; pydantic checks rest."""
    if isinstance(value, str):
        return _STATUS_NAMES.get(value.replace("_", "").lower(), value)
    return value


_NO_UNIT_SEPARATOR = r"^[^\x1f]*$"
"""U+001F separates a namespace from an id in the engine's keys: never part of either."""
Namespace = Annotated[
    str,
    Field(
        min_length=1, max_length=255, pattern=_NO_UNIT_SEPARATOR, description="defaults to default"
    ),
]
WorkflowIdField = Annotated[
    str,
    Field(
        min_length=1,
        max_length=WORKFLOW_ID_MAX,
        pattern=_NO_UNIT_SEPARATOR,
        description="unique within its namespace (each namespace has its own ids)",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=255)]
StatusField = Annotated[WorkflowStatus, BeforeValidator(_status_name)]


class Body(BaseModel):
    """A request body: strict types, unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _rfc3339_text(value: object) -> object:
    """PROTOCOL.md: times are RFC 3339 strings; a number (or a numeral) is not a time here."""
    numeral = isinstance(value, str) and _is_number(value)
    if numeral or (isinstance(value, int | float) and not isinstance(value, bool)):
        raise ValueError("a time must be an RFC 3339 string such as 2026-11-22T13:00:00Z")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


WireTime = Annotated[UtcDatetime, BeforeValidator(_rfc3339_text)]
"""A time in a request: RFC 3339 text (datetimes pass through for in-process callers)."""


class Reply(BaseModel):
    """A response body (documentation and construction only)."""

    model_config = ConfigDict(extra="forbid")


# ---- workflow requests ------------------------------------------------------------------


class StartRequest(Body):
    namespace: Namespace = "default"
    workflow_type: Name
    input: JsonValue = None
    workflow_id: WorkflowIdField | None = None
    search_attributes: dict[Name, JsonValue] | None = Field(
        default=None,
        description="name -> plain value (string, int, float, bool, list of strings) "
        'or typed value {"type": "Datetime", "data": "2026-01-01T00:00:00Z"}',
    )
    task_queue: Name | None = Field(
        default=None, description="recorded as the aion.task_queue search attribute"
    )
    parent_workflow_id: WorkflowIdField | None = Field(
        default=None,
        description="between cluster nodes: the parent (same namespace) of a child workflow"
        " started on another node's shard, told when the child ends",
    )
    package_version: Name | None = Field(
        default=None,
        description="between cluster nodes: the loaded package version to pin the run to"
        " (default: the type's route)",
    )


class WorkflowRef(Body):
    namespace: Namespace = "default"
    workflow_id: WorkflowIdField
    run_id: Name | None = Field(default=None, description="absent = the latest run")


class SignalRequest(WorkflowRef):
    signal_name: Name
    payload: JsonValue = None


class QueryRequest(WorkflowRef):
    query_name: Name
    args: list[JsonValue] = Field(default_factory=list)


class ReasonRequest(WorkflowRef):
    reason: Annotated[str, Field(max_length=4096)] | None = Field(
        default=None, description="recorded by cancel and pause; resume and reopen ignore it"
    )


class ResultRequest(WorkflowRef):
    wait_ms: int = Field(default=0, ge=0, le=MAX_WAIT_MS)


class DescribeRequest(WorkflowRef):
    include_history: bool = False


MAX_SEQ = 2**63 - 1
"""The largest seq a store column holds (signed 64-bit); larger cursors are 400, not 500."""


class HistoryRequest(Body):
    namespace: Namespace = "default"
    workflow_id: WorkflowIdField
    from_seq: int = Field(default=1, ge=1, le=MAX_SEQ)
    limit: int = Field(default=HISTORY_PAGE_DEFAULT, ge=1, le=HISTORY_PAGE_MAX)


class ListRequest(Body):
    """The list/count filter; GET routes take the same fields as query parameters
    (``search_attributes`` as a JSON-encoded list)."""

    namespace: Namespace = "default"
    workflow_type: Name | None = None
    status: StatusField | None = None
    started_after: WireTime | None = None
    started_before: WireTime | None = None
    closed_after: WireTime | None = None
    closed_before: WireTime | None = None
    parent: WorkflowIdField | None = None
    search_attributes: list[Predicate] = Field(default_factory=list)
    limit: int = Field(default=100, ge=1, le=1000)
    page_token: str | None = None


class CountRequest(ListRequest):
    """The list filter without paging."""

    limit: int = Field(default=100, ge=1, le=1000, description="ignored by count")


# ---- workflow responses -----------------------------------------------------------------


class ErrorBody(Reply):
    code: str
    message: str
    error_type: str | None = None


class StartResponse(Reply):
    workflow_id: str
    run_id: str


class EmptyResponse(Reply):
    pass


class QueryResponse(Reply):
    """Exactly one of ``result`` or ``error`` (unknown_query, query_timeout,
    not_running, query_failed)."""

    result: JsonValue = None
    error: ErrorBody | None = None


class LifecycleResponse(Reply):
    workflow_id: str
    run_id: str
    status: WorkflowStatus


class ResultResponse(Reply):
    status: WorkflowStatus
    result: JsonValue = None
    error: ErrorBody | None = None


class DescribeResponse(Reply):
    summary: WorkflowSummary
    pending_activities: list[dict[str, JsonValue]]
    pending_timers: list[dict[str, JsonValue]]
    runs: list[RunSummary]
    resident: bool
    problem: str | None = Field(
        None, description="why a non-terminal run cannot run here (e.g. its package version)"
    )
    history: list[Event] | None = None


class HistoryResponse(Reply):
    events: list[Event]
    next_from_seq: int | None = Field(
        description="pass as from_seq for the next page; null at head"
    )
    head_seq: int


class ListResponse(Reply):
    workflows: list[WorkflowSummary]
    next_page_token: str | None


class CountResponse(Reply):
    count: int


class HealthResponse(Reply):
    status: str


# ---- the event stream -------------------------------------------------------------------


class PerWorkflow(Body):
    namespace: Namespace = "default"
    workflow_id: WorkflowIdField
    resume_from_seq: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEQ,
        description="replay seq >= cursor, then live; absent = live only",
    )


class Firehose(Body):
    namespace: Namespace = "default"
    resume_from_position: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEQ,
        description="replay position >= cursor from the store, then live; absent = live only",
    )


class Filtered(Firehose):
    workflow_type: Name | None = None
    status: StatusField | None = None


class Subscribe(Body):
    """The first text frame on ``/events/stream``: exactly one arm."""

    per_workflow: PerWorkflow | None = None
    firehose: Firehose | None = None
    filtered: Filtered | None = None

    @model_validator(mode="after")
    def _one_arm(self) -> Subscribe:
        arms = [self.per_workflow, self.firehose, self.filtered]
        if sum(arm is not None for arm in arms) != 1:
            raise ValueError("give exactly one of per_workflow, firehose, filtered")
        return self


class StreamFrame(Reply):
    """An event frame; a terminal error frame is ``{"error": ErrorBody}`` instead."""

    namespace: str
    position: int = Field(description="the event's place in the store's global commit order")
    event: Event


class StreamErrorFrame(Reply):
    error: ErrorBody
