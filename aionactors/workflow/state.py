"""What the driver keeps about one run: its pending operations and its identity.

Plain records, so the engine can read them (what to re-dispatch, what to re-arm)
without reaching into the driver's logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import JsonValue, TypeAdapter, ValidationError

from aionactors.workflow.commands import ScheduleActivity, StartChild, StartTimer
from aionactors.workflow.scheduler import WorkflowFuture

_JSON: TypeAdapter[JsonValue] = TypeAdapter(JsonValue)


def ensure_json(value: Any, what: str) -> Any:
    """Refuse values that cannot be recorded as JSON, naming what they were for."""
    try:
        _JSON.validate_python(value, strict=True)
    except ValidationError as exc:
        raise TypeError(f"{what} must be a JSON value: {exc.errors()[0]['msg']}") from None
    return value


@dataclass(frozen=True)
class WorkflowInfo:
    workflow_id: str
    run_id: str
    workflow_type: str
    namespace: str
    started_at: datetime
    parent_workflow_id: str | None
    is_replaying: bool


@dataclass
class ActivityState:
    command: ScheduleActivity
    future: WorkflowFuture
    attempt: int = 0
    settled: bool = False


@dataclass
class TimerState:
    command: StartTimer
    future: WorkflowFuture
    settled: bool = False
    recorded: bool = field(default=False)


@dataclass
class ChildState:
    command: StartChild
    future: WorkflowFuture
    recorded: bool = False
    settled: bool = False
    package_version: str | None = None
    """The version the child was recorded with (the type's route then): it starts on it."""
