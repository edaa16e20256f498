"""A schedule's state, folded from the events of its own history.

The history ``schedule:{key}`` holds only schedule events (no WorkflowStarted,
so it never shows up in workflow lists). Schedule ids are per namespace, keyed as
workflow ids are (:func:`schedule_key`): a schedule of ``default`` by its id, one of
any other namespace by ``<namespace>\\x1f<id>``. Everything the
evaluator decides from (config, paused, cursor, current runs, buffered ticks)
is rebuilt here by :meth:`ScheduleProjection.apply`, so a restarted evaluator
knows exactly what the crashed one knew.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput
from aionactors.core.schedules import (
    CatchUpPolicy,
    OverlapPolicy,
    ScheduleConfig,
    ScheduleSpec,
    TriggerCause,
)
from aionactors.core.search import SearchAttributes
from aionactors.core.timestamps import UtcDatetime
from aionactors.core.workflow_keys import (
    KEY_SEPARATOR,
    check_id_text,
    peer_key,
    public_id,
)

HISTORY_PREFIX = "schedule:"
SCHEDULE_ID_MAX_LENGTH = 128
DEFAULT_RECENT_LIMIT = 20


def history_id(schedule_key: str) -> str:
    """The history holding a schedule's events (by the schedule's key)."""
    return f"{HISTORY_PREFIX}{schedule_key}"


def schedule_key(namespace: str, schedule_id: str) -> str:
    """The key of ``schedule_id`` in ``namespace`` (InvalidInput for a bad id or namespace).

    >>> schedule_key("default", "nightly"), schedule_key("acme", "nightly")
    ('nightly', 'acme\\x1fnightly')
    """
    check_id_text(namespace, "namespace")
    check_schedule_id(schedule_id)
    return peer_key(namespace, schedule_id)


def check_schedule_id(schedule_id: str) -> None:
    """Refuse ids that would make run ids ambiguous ('/' separates schedule and tick)."""
    if not 0 < len(schedule_id) <= SCHEDULE_ID_MAX_LENGTH:
        raise InvalidInput(f"schedule_id must be 1 to {SCHEDULE_ID_MAX_LENGTH} characters")
    if "/" in schedule_id or any(ch.isspace() or not ch.isprintable() for ch in schedule_id):
        raise InvalidInput("schedule_id must not contain '/', whitespace or control characters")


def tick_workflow_id(schedule_id: str, fire_at: datetime) -> str:
    """The run id of a tick: one id per (schedule, fire time), so a tick starts at most once."""
    label = fire_at.replace(tzinfo=None).isoformat(
        timespec="microseconds" if fire_at.microsecond else "seconds"
    )
    return f"{schedule_id}/{label}Z"


def manual_workflow_id(schedule_id: str, seq: int) -> str:
    """The run id of a trigger-now request, unique by the schedule history's next seq."""
    return f"{schedule_id}/manual-{seq}"


_RUN_LABEL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z|manual-\d+")


def run_history_id(workflow_id: str) -> str | None:
    """Where a cluster places this schedule run or schedule history: ``schedule:{id}``.

    A cluster places a schedule's runs in its history's shard (one node then starts,
    cancels and watches them), so only ids :func:`tick_workflow_id` and
    :func:`manual_workflow_id` make are recognised, never any id that holds a '/'.
    Placement goes by the id without its namespace (``acme\\x1fnightly``'s history and
    runs live where ``nightly``'s do), so a schedule created before ids were per
    namespace (under its bare id, its runs keyed) shares one shard with its runs, and
    shards of stored runs never move.

    >>> run_history_id("nightly/2026-12-03T03:00:00Z"), run_history_id("orders/42")
    ('schedule:nightly', None)
    >>> run_history_id("schedule:acme\\x1fnightly")
    'schedule:nightly'
    """
    if workflow_id.startswith(HISTORY_PREFIX) and KEY_SEPARATOR in workflow_id:
        return history_id(public_id(workflow_id))  # a namespaced schedule's own history
    schedule_id, sep, label = public_id(workflow_id).partition("/")  # runs of any namespace
    if sep and schedule_id and _RUN_LABEL.fullmatch(label):
        return history_id(schedule_id)
    return None


def schedule_of(workflow_id: str) -> str | None:
    """The key of the schedule a triggered run's key names, if it has that shape.

    >>> schedule_of("acme\\x1fnightly/manual-3"), schedule_of("plain")
    ('acme\\x1fnightly', None)
    """
    shown = public_id(workflow_id)
    schedule_id, sep, _ = shown.partition("/")
    if not sep:
        return None
    return workflow_id[: len(workflow_id) - len(shown)] + schedule_id  # the same namespace


class ScheduleExecution(BaseModel):
    """One run a schedule started, and how it ended once it has."""

    model_config = ConfigDict(frozen=True)
    workflow_id: str
    run_id: str
    fire_at: UtcDatetime | None
    triggered_at: UtcDatetime
    cause: TriggerCause
    status: str = "Running"
    ended_at: UtcDatetime | None = None


class BufferedTick(BaseModel):
    """A tick waiting for the current run to end (buffer_one / buffer_all)."""

    model_config = ConfigDict(frozen=True)
    fire_at: UtcDatetime
    workflow_id: str
    cause: TriggerCause


class ScheduleState(BaseModel):
    """What ``describe``/``list`` return; the schedule ``state`` of PROTOCOL.md."""

    model_config = ConfigDict(frozen=True)
    schedule_id: str
    namespace: str
    spec: ScheduleSpec
    workflow_type: str
    input: JsonValue = None
    overlap_policy: OverlapPolicy
    catch_up_policy: CatchUpPolicy
    catch_up_window_seconds: float | None = None
    search_attributes: SearchAttributes = Field(default_factory=dict)
    paused: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime
    last_fire_at: UtcDatetime | None = None
    """The latest tick the schedule handled (run, buffered or skipped)."""
    last_triggered_at: UtcDatetime | None = None
    next_fire_times: list[UtcDatetime] = Field(default_factory=list)
    recent_executions: list[ScheduleExecution] = Field(default_factory=list)
    """Newest first."""
    current_executions: list[ScheduleExecution] = Field(default_factory=list)
    buffered: list[BufferedTick] = Field(default_factory=list)
    triggered_count: int = 0
    skipped_count: int = 0

    @property
    def config(self) -> ScheduleConfig:
        return ScheduleConfig(
            namespace=self.namespace,
            spec=self.spec,
            workflow_type=self.workflow_type,
            input=self.input,
            overlap_policy=self.overlap_policy,
            catch_up_policy=self.catch_up_policy,
            catch_up_window_seconds=self.catch_up_window_seconds,
            search_attributes=self.search_attributes,
        )


@dataclass
class ScheduleProjection:
    """The fold of one schedule history (``schedule_id`` is its key). ``apply`` is the
    only way it changes."""

    schedule_id: str
    recent_limit: int = DEFAULT_RECENT_LIMIT
    config: ScheduleConfig | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    paused: bool = False
    deleted: bool = False
    cursor: datetime | None = None
    """Ticks at or before this instant are handled; the next tick is strictly after it."""
    last_fire_at: datetime | None = None
    last_triggered_at: datetime | None = None
    triggered_count: int = 0
    skipped_count: int = 0

    def __post_init__(self) -> None:
        self.current: dict[str, ScheduleExecution] = {}
        self.buffered: list[BufferedTick] = []
        self.recent: deque[ScheduleExecution] = deque(maxlen=self.recent_limit)

    @property
    def exists(self) -> bool:
        return self.config is not None and not self.deleted

    @property
    def active(self) -> bool:
        """Fires on its own: created, not paused, not deleted."""
        return self.exists and not self.paused

    def apply(self, event: ev.Event) -> None:
        match event:
            case ev.ScheduleCreated(config=config):
                self._reset()
                self.config, self.created_at = config, event.recorded_at
                self._reanchor(event.recorded_at)
            case ev.ScheduleUpdated(config=config):
                self.config = config
                self._reanchor(event.recorded_at)
            case ev.SchedulePaused():
                self.paused, self.updated_at = True, event.recorded_at
            case ev.ScheduleResumed():
                self.paused = False
                self._reanchor(event.recorded_at)
            case ev.ScheduleDeleted():
                self.deleted, self.updated_at = True, event.recorded_at
                self.current.clear()
                self.buffered.clear()
            case ev.ScheduleTriggered():
                self._triggered(event)
            case ev.ScheduleSkipped(fire_at=fire_at, cause=cause):
                self.skipped_count += 1
                self._unbuffer(fire_at, cause)
                self._handled(fire_at, cause)
            case ev.ScheduleBuffered(fire_at=fire_at, triggered_workflow_id=wid, cause=cause):
                self.buffered.append(BufferedTick(fire_at=fire_at, workflow_id=wid, cause=cause))
                self._handled(fire_at, cause)
            case ev.ScheduleExecutionEnded(triggered_workflow_id=wid, status=status):
                self._ended(wid, status, event.recorded_at)
            case _:
                pass  # not a schedule event: nothing to fold

    def state(self, next_fire_times: list[datetime]) -> ScheduleState:
        assert self.config is not None and self.created_at is not None
        config = self.config
        return ScheduleState(
            schedule_id=public_id(self.schedule_id),  # the id in its namespace, not the key
            namespace=config.namespace,
            spec=config.spec,
            workflow_type=config.workflow_type,
            input=config.input,
            overlap_policy=config.overlap_policy,
            catch_up_policy=config.catch_up_policy,
            catch_up_window_seconds=config.catch_up_window_seconds,
            search_attributes=config.search_attributes,
            paused=self.paused,
            created_at=self.created_at,
            updated_at=self.updated_at or self.created_at,
            last_fire_at=self.last_fire_at,
            last_triggered_at=self.last_triggered_at,
            next_fire_times=next_fire_times,
            recent_executions=list(reversed(self.recent)),
            current_executions=list(self.current.values()),
            buffered=list(self.buffered),
            triggered_count=self.triggered_count,
            skipped_count=self.skipped_count,
        )

    # ---- folding helpers ----------------------------------------------------------------------
    def _reset(self) -> None:
        self.paused = self.deleted = False
        self.cursor = self.last_fire_at = self.last_triggered_at = self.updated_at = None
        self.triggered_count = self.skipped_count = 0
        self.current.clear()
        self.buffered.clear()
        self.recent.clear()

    def _reanchor(self, at: datetime) -> None:
        """Create, update and resume start the schedule afresh: no catching up on the past."""
        self.updated_at = at
        self.cursor = at if self.cursor is None else max(self.cursor, at)

    def _handled(self, fire_at: datetime, cause: TriggerCause) -> None:
        if cause.advances_cursor:
            self.cursor = fire_at if self.cursor is None else max(self.cursor, fire_at)
            self.last_fire_at = self.cursor

    def _triggered(self, event: ev.ScheduleTriggered) -> None:
        wid = event.triggered_workflow_id
        if wid in self.current or any(e.workflow_id == wid for e in self.recent):
            return  # recorded twice (never written so, but a fold must not double count)
        execution = ScheduleExecution(
            workflow_id=wid,
            run_id=event.triggered_run_id,
            fire_at=event.fire_at,
            triggered_at=event.recorded_at,
            cause=event.cause,
        )
        self.current[wid] = execution
        self.recent.append(execution)
        self.triggered_count += 1
        self.last_triggered_at = event.recorded_at
        self.buffered = [tick for tick in self.buffered if tick.workflow_id != wid]
        if event.fire_at is not None:
            self._handled(event.fire_at, event.cause)

    def _unbuffer(self, fire_at: datetime, cause: TriggerCause) -> None:
        if cause is TriggerCause.BUFFERED:
            for index, tick in enumerate(self.buffered):
                if tick.fire_at == fire_at:
                    del self.buffered[index]
                    return

    def _ended(self, workflow_id: str, status: str, at: datetime) -> None:
        execution = self.current.pop(workflow_id, None)
        if execution is None:
            return
        ended = execution.model_copy(update={"status": status, "ended_at": at})
        for index, recent in enumerate(self.recent):
            if recent.workflow_id == workflow_id:
                self.recent[index] = ended
