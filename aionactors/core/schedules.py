"""The schedule model recorded in schedule events: trigger spec and policies.

Only the data lives here; evaluating triggers (croniter, time zones, jitter)
belongs to ``aionactors.schedule``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from aionactors.core.search import SearchAttributes
from aionactors.core.timestamps import UtcDatetime


class OverlapPolicy(StrEnum):
    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    BUFFER_ALL = "buffer_all"
    CANCEL_PREVIOUS = "cancel_previous"
    TERMINATE_PREVIOUS = "terminate_previous"
    ALLOW_ALL = "allow_all"


class CatchUpPolicy(StrEnum):
    SKIP = "skip"
    ONE = "one"
    ALL = "all"


class TriggerCause(StrEnum):
    """Why a schedule considered a fire time; recorded on its tick events."""

    SCHEDULED = "scheduled"
    """A live tick, on time (or late, within the catch-up window)."""
    CATCH_UP = "catch_up"
    """A tick missed while the schedule was not running, handled at startup."""
    BUFFERED = "buffered"
    """A buffered tick, released when the execution it waited for ended."""
    MANUAL = "manual"
    """Trigger now, by request."""
    BACKFILL = "backfill"
    """A past tick replayed by a backfill request."""

    @property
    def advances_cursor(self) -> bool:
        """Only the schedule's own ticks move it forward; manual runs and backfills do not."""
        return self in (TriggerCause.SCHEDULED, TriggerCause.CATCH_UP)


class SkipReason(StrEnum):
    """Why a tick started no run."""

    OVERLAP = "overlap"
    """The overlap policy said skip (a run was in progress, or the buffer was full)."""
    CATCH_UP = "catch_up"
    """Missed while down, and the catch-up policy does not run it."""
    LATE = "late"
    """Older than the catch-up window when it was handled."""
    START_FAILED = "start_failed"
    """The engine refused the start (e.g. the workflow type is no longer registered)."""


MAX_INTERVAL_SECONDS = 100 * 366 * 24 * 3600
"""A century: longer intervals (or offsets, or jitter) put fire times past what a datetime holds."""


class ScheduleSpec(BaseModel):
    """When a schedule fires: a cron expression in a time zone, or a fixed interval.

    Numbers are strict (``"60"`` is not a number) and bounded, so every accepted spec can
    compute its fire times.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    cron: str | None = Field(default=None, strict=True, max_length=1000)
    timezone: str = Field(default="UTC", strict=True, max_length=255)
    every_seconds: float | None = Field(
        default=None, gt=0, le=MAX_INTERVAL_SECONDS, strict=True, allow_inf_nan=False
    )
    offset_seconds: float = Field(
        default=0, ge=0, le=MAX_INTERVAL_SECONDS, strict=True, allow_inf_nan=False
    )
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    jitter_seconds: float = Field(
        default=0, ge=0, le=MAX_INTERVAL_SECONDS, strict=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every_seconds is None):
            raise ValueError("spec needs exactly one of 'cron' or 'every_seconds'")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError("spec 'end_at' must be after 'start_at'")
        return self


class ScheduleConfig(BaseModel):
    """Everything a schedule needs to start workflows; recorded whole on create/update."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    namespace: str = "default"
    spec: ScheduleSpec
    workflow_type: str = Field(min_length=1)
    input: JsonValue = None
    overlap_policy: OverlapPolicy = OverlapPolicy.SKIP
    catch_up_policy: CatchUpPolicy = CatchUpPolicy.ONE
    catch_up_window_seconds: float | None = Field(
        default=None, gt=0, le=MAX_INTERVAL_SECONDS, strict=True, allow_inf_nan=False
    )
    search_attributes: SearchAttributes = Field(default_factory=dict)
