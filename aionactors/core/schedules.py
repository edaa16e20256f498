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


class ScheduleSpec(BaseModel):
    """When a schedule fires: a cron expression in a time zone, or a fixed interval."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cron: str | None = None
    timezone: str = "UTC"
    every_seconds: float | None = Field(default=None, gt=0)
    offset_seconds: float = Field(default=0, ge=0)
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    jitter_seconds: float = Field(default=0, ge=0)

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
    catch_up_window_seconds: float | None = Field(default=None, gt=0)
    search_attributes: SearchAttributes = Field(default_factory=dict)
