"""The schedule actor: the single writer and evaluator of one schedule.

On start it folds its history, reconciles the runs it believes current with
their real status, applies the catch-up policy to ticks missed while it was
down, releases a buffered tick if nothing is running, and arms its timer. On
each timer wake it handles every due tick under the overlap policy. When one of
its runs ends it records that and releases the next buffered tick.

Exactly once per tick: a tick's run id is derived from (schedule id, fire
time). Only a tick that was already due when this actor started can have been
started by an earlier incarnation that crashed before recording it; for those
the actor looks the id up first, and a run found there is recorded, never
started again. Later ticks are started by this actor alone.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pykka

from aionactors.core import events as ev
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidState,
    NotFound,
    ScheduleNotFound,
    Unavailable,
)
from aionactors.core.schedules import (
    CatchUpPolicy,
    OverlapPolicy,
    ScheduleConfig,
    SkipReason,
    TriggerCause,
)
from aionactors.core.workflow_keys import peer_key, public_id
from aionactors.schedule import messages as msg
from aionactors.schedule.directory import Directory
from aionactors.schedule.history import ScheduleLog
from aionactors.schedule.policies import Fire, OverlapDecision, decide_overlap, plan_catch_up
from aionactors.schedule.seams import Cancellable, Seams, StartedRun
from aionactors.schedule.state import (
    ScheduleProjection,
    ScheduleState,
    history_id,
    manual_workflow_id,
    tick_workflow_id,
)
from aionactors.schedule.triggers import backfill_ticks, due_ticks, jitter, next_fire_times

_log = logging.getLogger(__name__)
_CALLER_ERRORS = (InvalidInput, NotFound, AlreadyExists, InvalidState, Unavailable)
_START_REFUSALS = (InvalidInput, NotFound, InvalidState, AlreadyExists)
DESCRIBED_FIRE_TIMES = 5


@dataclass(frozen=True, slots=True)
class ScheduleRuntime:
    """What every schedule actor shares; built once by the facade."""

    seams: Seams
    directory: Directory
    recent_limit: int
    max_due: int
    """Most ticks handled in one go; older missed ticks are skipped as late."""
    max_backfill: int
    deposed: tuple[type[BaseException], ...] = ()
    """Errors meaning another process runs this schedule now (a cluster node lost its
    shard): the actor stops firing and answers with that error until it is stopped."""


class Outcome(StrEnum):
    STARTED = "started"
    SKIPPED = "skipped"
    BUFFERED = "buffered"
    ALREADY = "already"


class ScheduleBroken(InvalidState):
    """The schedule's history cannot be loaded (e.g. old data this version rejects).

    The schedule is isolated: it fires nothing and answers every request with this error,
    while every other schedule goes on. Fix or delete the history to bring it back."""

    error_type = "ScheduleBroken"


class _Halt(Exception):
    """The engine refuses starts (draining or shut down): stop, keep the tick for later."""


class ScheduleActor(pykka.ThreadingActor):
    use_daemon_thread = True

    def __init__(self, runtime: ScheduleRuntime, schedule_id: str) -> None:
        """``schedule_id`` is the schedule's key (``namespace\x1fid`` outside default)."""
        super().__init__()
        self.rt = runtime
        self.schedule_id = schedule_id
        self.public_id = public_id(schedule_id)
        """The id in its namespace: what callers, run ids and messages name."""
        self.projection = ScheduleProjection(schedule_id, runtime.recent_limit)
        self.log: ScheduleLog
        self._timer: Cancellable | None = None
        self._started_at: datetime
        self.broken: str | None = None
        """Why the history could not be loaded, if it could not."""
        self.deposed: BaseException | None = None
        """The refusal that said another process runs this schedule now."""

    # ---- lifecycle ------------------------------------------------------------------------
    def on_start(self) -> None:
        # Bind before reading: an ending committed after the read reaches this actor's inbox.
        self.rt.directory.bind(self.schedule_id, self.actor_ref)
        seams = self.rt.seams
        self._started_at = seams.timer.now()
        try:
            self._load()
        except self.rt.deposed as exc:
            self._depose(exc)
        except Exception as exc:  # isolate this schedule instead of crash-looping the subsystem
            self._disarm()
            self.broken = f"{type(exc).__name__}: {exc}"
            _log.error(
                "schedule %s is isolated: its history cannot be loaded (%s)",
                self.public_id,
                self.broken,
                extra=self._subject,
            )

    def _load(self) -> None:
        seams = self.rt.seams
        history = seams.source.read_history(history_id(self.schedule_id))
        self.log = ScheduleLog(self.projection, history, seams.sink, seams.timer)
        if self.projection.exists:
            self._reconcile_runs()
            if self.projection.active:
                self._handle_due(TriggerCause.CATCH_UP)
                self._release_buffered()
            self._arm()

    def on_stop(self) -> None:
        self._disarm()
        self.rt.directory.unbind(self.schedule_id, self.actor_ref)

    def on_failure(self, *_: object) -> None:
        self._disarm()
        self.rt.directory.unbind(self.schedule_id, self.actor_ref)

    def on_receive(self, message: Any) -> Any:
        if self.deposed is not None:
            if isinstance(message, msg.ASKS):
                raise self.deposed
            return None
        try:
            return self._receive(message)
        except self.rt.deposed as exc:
            self._depose(exc)
            if isinstance(message, msg.ASKS):
                raise
            return None

    def _depose(self, refusal: BaseException) -> None:
        """Fire nothing more: the history's new owner runs this schedule (nothing was written
        by the refused append, so the projection is still the fold of the store)."""
        self._disarm()
        self.deposed = refusal
        _log.info(
            "schedule %s: another process runs it now (%s)",
            self.public_id, refusal, extra=self._subject,
        )  # fmt: skip

    def _receive(self, message: Any) -> Any:
        if self.broken is not None:
            if isinstance(message, msg.ASKS):
                raise ScheduleBroken(
                    f"schedule {self.public_id!r} is isolated: its history cannot be"
                    f" loaded ({self.broken})"
                )
            return None
        if not isinstance(message, msg.ASKS):
            return self._on_tell(message)
        try:
            return self._on_ask(message)
        except (*_CALLER_ERRORS, *self.rt.deposed):
            raise
        except Exception as exc:
            self.actor_ref.tell(msg.Crash(exc))  # reply with the error, then rebuild
            raise

    def _on_tell(self, message: Any) -> None:
        match message:
            case msg.Wake():
                if self.projection.active:
                    self._handle_due(TriggerCause.SCHEDULED)
                    self._arm()
            case msg.RunEnded(workflow_id=wid, status=status):
                if wid in self.projection.current:
                    self.log.record(
                        ev.ScheduleExecutionEnded, triggered_workflow_id=wid, status=status
                    )
                    self._release_buffered()
            case msg.Crash(error=error):
                raise error
            case _:
                _log.warning("schedule %s ignored %r", self.public_id, message, extra=self._subject)

    def _on_ask(self, message: Any) -> Any:
        match message:
            case msg.Create(config=config):
                if self.projection.exists:
                    raise AlreadyExists(f"schedule {self.public_id!r} already exists")
                self.log.record(ev.ScheduleCreated, config=config)
                self._arm()
                return self._state(DESCRIBED_FIRE_TIMES)
            case msg.Describe(fire_times=count):
                return self._state(count)
        self._require()
        if self.projection.active:
            self._handle_due(TriggerCause.SCHEDULED)  # due ticks belong to the config they fell in
        match message:
            case msg.Update(config=config):
                self.log.record(ev.ScheduleUpdated, config=config)
            case msg.Pause() if not self.projection.paused:
                self.log.record(ev.SchedulePaused)
            case msg.Resume() if self.projection.paused:
                self.log.record(ev.ScheduleResumed)
                self._release_buffered()
            case msg.Delete():
                self.log.record(ev.ScheduleDeleted)
                self._disarm()
                return None
            case msg.TriggerNow(overlap_policy=policy):
                wid = self._run_key(manual_workflow_id(self.public_id, self.log.next_seq))
                try:
                    self._fire(self.rt.seams.timer.now(), TriggerCause.MANUAL, wid, policy)
                except _Halt:
                    raise Unavailable("the engine refuses new starts right now") from None
            case msg.Backfill(start=start, end=end):
                return self._backfill(start, end)
        self._arm()
        return self._state(DESCRIBED_FIRE_TIMES)

    # ---- ticks ----------------------------------------------------------------------------
    def _handle_due(self, cause: TriggerCause) -> None:
        """Handle ticks in (cursor, now]: live ones all fire, missed ones follow catch-up."""
        config = self._config
        now = self.rt.seams.timer.now()
        self._repair_first_tick(cause, now)
        assert self.projection.cursor is not None
        ticks = due_ticks(
            config.spec, self.schedule_id, self.projection.cursor, now, self.rt.max_due
        )
        if ticks.dropped is not None:
            self._skip(*ticks.dropped, SkipReason.LATE, cause)
        policy = CatchUpPolicy.ALL if cause is TriggerCause.SCHEDULED else config.catch_up_policy
        try:
            for step in plan_catch_up(policy, ticks.due, now, config.catch_up_window_seconds):
                if isinstance(step, Fire):
                    self._fire(step.fire_at, cause)
                else:
                    self._skip(step.first, step.last, step.reason, cause)
        except _Halt:
            _log.info(
                "schedule %s: the engine refuses starts; ticks wait",
                self.public_id, extra=self._subject,
            )  # fmt: skip

    def _repair_first_tick(self, cause: TriggerCause, now: datetime) -> None:
        """A crashed evaluator may have started the next tick without recording it: record it,
        whatever the catch-up policy would say, since it runs."""
        spec = self._config.spec
        assert self.projection.cursor is not None
        upcoming = next_fire_times(spec, self.projection.cursor, 1)
        if not upcoming or not self._may_exist(upcoming[0], cause):
            return
        if upcoming[0] + jitter(self.schedule_id, upcoming[0], spec) > now:
            return
        run = self.rt.seams.starter.find(
            self._run_key(tick_workflow_id(self.public_id, upcoming[0]))
        )
        if run is not None:
            self._record_started(run, upcoming[0], cause)

    def _run_key(self, workflow_id: str) -> str:
        """The engine key of a run this schedule names: it runs in the schedule's namespace."""
        return peer_key(self._config.namespace, workflow_id)

    def _fire(
        self,
        fire_at: datetime,
        cause: TriggerCause,
        workflow_id: str | None = None,
        overlap: OverlapPolicy | None = None,
    ) -> Outcome:
        """One tick under the overlap policy; raises _Halt if the engine refuses starts."""
        wid = workflow_id or self._run_key(tick_workflow_id(self.public_id, fire_at))
        existing = self.rt.seams.starter.find(wid) if self._may_exist(fire_at, cause) else None
        if existing is not None:
            if cause is TriggerCause.BACKFILL:
                return Outcome.ALREADY
            self._record_started(existing, fire_at, cause)
            return Outcome.STARTED
        projection = self.projection
        decision = decide_overlap(
            overlap or self._config.overlap_policy,
            len(projection.current),
            len(projection.buffered),
        )
        match decision:
            case OverlapDecision.SKIP:
                self._skip(fire_at, fire_at, SkipReason.OVERLAP, cause)
                return Outcome.SKIPPED
            case OverlapDecision.BUFFER:
                self.log.record(
                    ev.ScheduleBuffered, fire_at=fire_at, triggered_workflow_id=wid, cause=cause
                )
                return Outcome.BUFFERED
            case OverlapDecision.CANCEL_THEN_START | OverlapDecision.TERMINATE_THEN_START:
                self._end_current(decision is OverlapDecision.TERMINATE_THEN_START, fire_at)
        return self._start(wid, fire_at, cause)

    def _may_exist(self, fire_at: datetime, cause: TriggerCause) -> bool:
        """Could an earlier incarnation have started this tick's run without recording it?

        Only for ticks that were due before this actor started: a live tick later than
        that is started by this actor alone, and a crash sends it back through recovery.
        Skipping the lookup spares one store read on every live tick.
        """
        return cause is not TriggerCause.SCHEDULED or fire_at <= self._started_at

    def _start(self, wid: str, fire_at: datetime, cause: TriggerCause) -> Outcome:
        try:
            run = self.rt.seams.starter.start(wid, self.public_id, self._config)
        except self.rt.deposed:
            raise
        except Unavailable:
            raise _Halt from None
        except _START_REFUSALS as exc:
            _log.warning(
                "schedule %s could not start %s: %s",
                self.public_id, public_id(wid), exc, extra=self._subject,
            )  # fmt: skip
            self._skip(fire_at, fire_at, SkipReason.START_FAILED, cause, detail=str(exc))
            return Outcome.SKIPPED
        self._record_started(run, fire_at, cause)
        return Outcome.STARTED

    def _record_started(self, run: StartedRun, fire_at: datetime, cause: TriggerCause) -> None:
        self.log.record(
            ev.ScheduleTriggered,
            triggered_workflow_id=run.workflow_id,
            triggered_run_id=run.run_id,
            fire_at=fire_at,
            cause=cause,
        )
        if run.ended:  # found already finished (started before a crash)
            self.log.record(
                ev.ScheduleExecutionEnded, triggered_workflow_id=run.workflow_id, status=run.status
            )

    def _skip(
        self,
        first: datetime,
        last: datetime,
        reason: SkipReason,
        cause: TriggerCause,
        detail: str | None = None,
    ) -> None:
        self.log.record(
            ev.ScheduleSkipped,
            fire_at=last,
            first_fire_at=first if first != last else None,
            reason=reason,
            cause=cause,
            detail=detail,
        )

    def _end_current(self, terminate: bool, fire_at: datetime) -> None:
        """cancel_previous / terminate_previous: stop every current run before the new one."""
        how = "terminated" if terminate else "cancelled"
        reason = f"{how} by schedule {self.public_id!r} for its tick at {fire_at.isoformat()}"
        seams = self.rt.seams
        for wid in list(self.projection.current):
            seams.canceller.cancel(wid, reason, terminate=terminate)
            self._record_if_ended(wid, missing="Cancelled")

    def _release_buffered(self) -> None:
        """Start the oldest buffered tick once nothing is running (and the schedule is active)."""
        projection = self.projection
        seams = self.rt.seams
        while projection.active and not projection.current and projection.buffered:
            tick = projection.buffered[0]
            run = seams.starter.find(tick.workflow_id)
            if run is None:
                try:
                    run = seams.starter.start(tick.workflow_id, self.public_id, self._config)
                except self.rt.deposed:
                    raise
                except Unavailable:
                    return
                except _START_REFUSALS as exc:
                    self._skip(
                        tick.fire_at, tick.fire_at, SkipReason.START_FAILED,
                        TriggerCause.BUFFERED, detail=str(exc),
                    )  # fmt: skip
                    continue
            self._record_started(run, tick.fire_at, TriggerCause.BUFFERED)

    def _reconcile_runs(self) -> None:
        """Runs that ended while no actor was listening are recorded as ended now."""
        for wid in list(self.projection.current):
            self._record_if_ended(wid, missing="Unknown")

    def _record_if_ended(self, wid: str, missing: str) -> None:
        """Record a current run's end if it has ended (as ``missing`` if it is gone)."""
        run = self.rt.seams.starter.find(wid)
        if run is None or run.ended:
            status = run.status if run is not None else missing
            self.log.record(ev.ScheduleExecutionEnded, triggered_workflow_id=wid, status=status)

    def _backfill(self, start: datetime, end: datetime) -> msg.BackfillResult:
        if end > self.rt.seams.timer.now():
            raise InvalidInput("backfill: 'end' must not be in the future")
        ticks = backfill_ticks(self._config.spec, start, end, self.rt.max_backfill)
        cursor = self.projection.cursor
        if self.projection.active and cursor is not None:
            ticks = [t for t in ticks if t <= cursor]  # later ones are still the schedule's own
        result: dict[Outcome, list[Any]] = {outcome: [] for outcome in Outcome}
        for tick in ticks:
            try:
                outcome = self._fire(tick, TriggerCause.BACKFILL)
            except _Halt:
                raise Unavailable("the engine refuses new starts right now") from None
            if outcome is Outcome.STARTED:
                result[outcome].append(self.projection.recent[-1])
            else:
                result[outcome].append(tick)
        self._arm()
        return msg.BackfillResult(
            schedule_id=self.public_id,
            start=start,
            end=end,
            started=result[Outcome.STARTED],
            buffered=result[Outcome.BUFFERED],
            skipped=result[Outcome.SKIPPED],
            already_started=result[Outcome.ALREADY],
            state=self._state(DESCRIBED_FIRE_TIMES),
        )

    # ---- timer ----------------------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        if not self.projection.active:
            return
        config = self._config
        assert self.projection.cursor is not None
        upcoming = next_fire_times(config.spec, self.projection.cursor, 1)
        if not upcoming:
            return  # past end_at: nothing more to fire
        when = upcoming[0] + jitter(self.schedule_id, upcoming[0], config.spec)
        ref = self.actor_ref

        def wake() -> None:
            # Stopped or restarting: the next incarnation re-arms itself.
            with contextlib.suppress(pykka.ActorDeadError):
                ref.tell(msg.Wake())

        self._timer = self.rt.seams.timer.arm(when, wake)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- views ----------------------------------------------------------------------------
    @property
    def _config(self) -> ScheduleConfig:
        config = self.projection.config
        assert config is not None
        return config

    @property
    def _subject(self) -> dict[str, str]:
        """The structured log fields naming this schedule: its id and its namespace."""
        config = self.projection.config
        namespace = config.namespace if config is not None else None
        return {"schedule_id": self.public_id} | ({"namespace": namespace} if namespace else {})

    def _require(self) -> None:
        if not self.projection.exists:
            raise ScheduleNotFound(self.public_id)

    def _state(self, fire_times: int) -> ScheduleState:
        self._require()
        return described(self.projection, fire_times)


def described(projection: ScheduleProjection, fire_times: int) -> ScheduleState:
    """What describe shows of a (existing) schedule's fold: its state and next fire times."""
    upcoming: list[datetime] = []
    if projection.active and projection.cursor is not None:
        assert projection.config is not None
        upcoming = next_fire_times(projection.config.spec, projection.cursor, fire_times)
    return projection.state(upcoming)
