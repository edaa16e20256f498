"""Messages a schedule actor handles. Tells come from the clock and the commit
listener; asks come from the :class:`~aionactors.schedule.Schedules` facade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from aionactors.core.schedules import OverlapPolicy, ScheduleConfig
from aionactors.core.timestamps import UtcDatetime
from aionactors.schedule.state import ScheduleExecution, ScheduleState

# ---- tells ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wake:
    """The tick timer fired: handle every tick that is due, then re-arm."""


@dataclass(frozen=True, slots=True)
class RunEnded:
    """A run whose id has this schedule's prefix reached a terminal event."""

    workflow_id: str
    status: str


@dataclass(frozen=True, slots=True)
class Crash:
    """An ask failed unexpectedly: crash so that the supervisor rebuilds the actor."""

    error: BaseException


# ---- asks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Create:
    config: ScheduleConfig


@dataclass(frozen=True, slots=True)
class Update:
    config: ScheduleConfig


@dataclass(frozen=True, slots=True)
class Pause:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Delete:
    pass


@dataclass(frozen=True, slots=True)
class TriggerNow:
    overlap_policy: OverlapPolicy | None = None


@dataclass(frozen=True, slots=True)
class Describe:
    fire_times: int


@dataclass(frozen=True, slots=True)
class Backfill:
    start: datetime
    end: datetime


ASKS = (Create, Update, Pause, Resume, Delete, TriggerNow, Describe, Backfill)


class BackfillResult(BaseModel):
    """What a backfill did with each past tick of its range."""

    model_config = ConfigDict(frozen=True)
    schedule_id: str
    start: UtcDatetime
    end: UtcDatetime
    started: list[ScheduleExecution] = Field(default_factory=list)
    buffered: list[UtcDatetime] = Field(default_factory=list)
    skipped: list[UtcDatetime] = Field(default_factory=list)
    already_started: list[UtcDatetime] = Field(default_factory=list)
    """Ticks whose run exists already (it ran on schedule, or an earlier backfill ran it)."""
    state: ScheduleState
