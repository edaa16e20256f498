"""The frames of ``/workers/stream`` (PROTOCOL.md, "Remote activity workers"), both ways.

Worker frames are validated on arrival; server frames document the wire in
``/openapi.json`` (``x-websocket`` of ``/workers/stream``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from transports.models import ErrorBody, Namespace


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterFrame(_Frame):
    type: Literal["register"]
    namespaces: list[str] = Field(min_length=1)
    task_queue: str = Field(min_length=1)
    activity_types: list[str] = Field(default_factory=list)
    max_concurrent: int = Field(1, ge=1, le=10_000)
    node: str = ""


class WireError(_Frame):
    kind: Literal["retryable", "terminal"]
    message: str
    details: Any = None
    type: str = "RemoteActivityError"


class ResultFrame(_Frame):
    type: Literal["result"]
    task_id: str
    result: Any = None
    error: WireError | None = None


class HeartbeatFrame(_Frame):
    type: Literal["heartbeat"]
    task_id: str
    details: Any = None


WORKER_FRAME = TypeAdapter(
    Annotated[RegisterFrame | ResultFrame | HeartbeatFrame, Field(discriminator="type")]
)


class WorkerEntry(BaseModel):
    worker_id: str
    namespace: str
    task_queue: str
    activity_types: list[str]
    node: str
    max_concurrent: int
    in_flight: int
    connected_at: datetime


class QueueBacklog(BaseModel):
    """Tasks of one queue waiting for a worker (0 once it drained)."""

    namespace: str
    task_queue: str
    waiting: int


class WorkersResponse(BaseModel):
    workers: list[WorkerEntry]
    backlog: list[QueueBacklog] = Field(default_factory=list)


class WorkersQuery(BaseModel):
    """``GET /workers?namespace=NS``: only that (granted) namespace; without it, every
    namespace the caller is granted."""

    model_config = ConfigDict(extra="forbid")
    namespace: Namespace | None = None


class RegisteredFrame(_Frame):
    type: Literal["registered"]
    worker_id: str
    heartbeat_window_ms: int


class TaskFrame(_Frame):
    type: Literal["task"]
    task_id: str
    namespace: str
    task_queue: str
    workflow_id: str
    run_id: str
    activity_id: int
    activity_type: str
    input: Any = None
    attempt: int = Field(ge=1)
    start_to_close_ms: int | None = None
    heartbeat_timeout_ms: int | None = None


class ResultAckFrame(_Frame):
    type: Literal["result_ack"]
    task_id: str


class CancelFrame(_Frame):
    type: Literal["cancel"]
    task_id: str
    reason: str


class DrainFrame(_Frame):
    type: Literal["drain"]


class WorkerErrorFrame(_Frame):
    type: Literal["error"]
    error: ErrorBody


CLIENT_FRAMES = (RegisterFrame, ResultFrame, HeartbeatFrame)
SERVER_FRAMES = (RegisteredFrame, TaskFrame, ResultAckFrame, CancelFrame, DrainFrame,
                 WorkerErrorFrame)  # fmt: skip
