"""Bodies of the "messages to running workflows" routes (update, signal-with-start)."""

from __future__ import annotations

from pydantic import Field, JsonValue

from transports.models import (
    MAX_WAIT_MS,
    ErrorBody,
    Name,
    Reply,
    StartRequest,
    WorkflowIdField,
    WorkflowRef,
)

UPDATE_WAIT_MS_DEFAULT = 60_000


class UpdateRequest(WorkflowRef):
    update_name: Name
    args: list[JsonValue] = Field(default_factory=list)
    wait_ms: int = Field(
        default=UPDATE_WAIT_MS_DEFAULT,
        ge=0,
        le=MAX_WAIT_MS,
        description="how long to wait for the handler; past it 408 query_timeout "
        "(UpdateTimeout): the update stays accepted and its outcome is still recorded",
    )


class UpdateResponse(Reply):
    """``result`` once the handler finished (recorded first); ``error`` (``update_failed``,
    ``UpdateFailed``) if the handler raised (that outcome is recorded too)."""

    result: JsonValue = None
    error: ErrorBody | None = None


class SignalWithStartRequest(StartRequest):
    workflow_id: WorkflowIdField
    signal_name: Name
    payload: JsonValue = None


class SignalWithStartResponse(Reply):
    workflow_id: str
    run_id: str
    started: bool = Field(description="true: this call started the run; false: it signalled it")
