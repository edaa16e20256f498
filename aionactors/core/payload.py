"""Payloads and the error shapes recorded in history.

Inputs, results and signal payloads are plain JSON values: whatever
``json.dumps`` accepts. Errors keep the message, the exception's type name and
optional JSON details, so a failure reads the same after replay.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue

Payload = JsonValue
"""Any JSON value: object, array, string, number, bool or null."""


class ActivityErrorKind(StrEnum):
    RETRYABLE = "Retryable"
    TERMINAL = "Terminal"


class ActivityError(BaseModel):
    """Why one activity attempt failed; ``kind`` says whether retrying may help."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ActivityErrorKind
    message: str
    type: str | None = None
    details: JsonValue = None


class WorkflowError(BaseModel):
    """Why a run (or child run) failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    message: str
    type: str | None = None
    details: JsonValue = None

    @classmethod
    def from_exception(cls, exc: BaseException, details: Any = None) -> WorkflowError:
        return cls(message=str(exc) or type(exc).__name__, type=type(exc).__name__, details=details)

    @classmethod
    def from_activity(cls, error: ActivityError) -> WorkflowError:
        return cls(message=error.message, type=error.type, details=error.details)
