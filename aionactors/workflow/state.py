"""What the driver keeps about one run: its pending operations and its identity.

Plain records, so the engine can read them (what to re-dispatch, what to re-arm)
without reaching into the driver's logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, JsonValue, TypeAdapter, ValidationError

from aionactors.workflow.commands import ScheduleActivity, StartChild, StartTimer
from aionactors.workflow.scheduler import WorkflowFuture

_JSON: TypeAdapter[JsonValue] = TypeAdapter(JsonValue, config=ConfigDict(allow_inf_nan=False))
"""JSON has no NaN or Infinity: the history would store null and replay would diverge."""


def ensure_json(value: Any, what: str) -> Any:
    """Refuse values that cannot be recorded as JSON, naming what they were for (and where)."""
    try:
        _JSON.validate_python(value, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = _json_path(error["loc"])
        at = f" (at {where})" if where else ""
        detail = error["msg"]
        if error["type"] == "finite_number":
            detail = f"{error['input']!r} is not a JSON number (NaN and Infinity are refused)"
        raise TypeError(f"{what} must be a JSON value{at}: {detail}") from None
    return value


def _json_path(loc: tuple[int | str, ...]) -> str:
    """``('dict', 'a', 'list', 0, 'float')`` -> ``a[0]``: the value's place, without the tags."""
    path, parts = "", iter(loc)
    for tag in parts:
        if tag == "dict":
            key = next(parts, "")
            path += f".{key}" if path else str(key)
        elif tag == "list":
            path += f"[{next(parts, '')}]"
    return path


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
