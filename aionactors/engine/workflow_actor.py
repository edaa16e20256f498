"""The workflow actor: owns one resident workflow's driver and recorder.

On start it replays the history (re-executing the code against recorded
results), records whatever the code asks for next, and picks up work left in
flight (activities to re-dispatch, timers to re-arm). Then it reacts to
messages: each outcome is recorded first and only then shown to the code.
Any unexpected fault raises out of a tell handler: the actor crashes, its
supervisor starts a fresh one, and that one replays — history is never
half-written because every append is all-or-nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pykka

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput, NotRunning, WorkflowTypeNotFound
from aionactors.core.ids import TimerId
from aionactors.core.payload import ActivityError, ActivityErrorKind, WorkflowError
from aionactors.core.search import DEFAULT_NAMESPACE, NAMESPACE_ATTRIBUTE, StringValue
from aionactors.core.status import last_run_segment, status_from_events
from aionactors.engine import messages as msg
from aionactors.engine.activities import (
    ActivityAttemptFailed,
    ActivityOutcome,
    ActivitySucceeded,
    ActivityTask,
    ActivityTimedOut,
    ActivityWasCancelled,
)
from aionactors.engine.recorder import EventSpec, Recorder
from aionactors.engine.runtime import Runtime
from aionactors.workflow.commands import (
    CancelTimer,
    Command,
    CompleteWorkflow,
    FailWorkflow,
    RequestCancelActivity,
    ScheduleActivity,
    StartTimer,
)
from aionactors.workflow.driver import ActivityState, WorkflowDriver
from aionactors.workflow.errors import NonDeterminismError
from aionactors.workflow.retry import NO_RETRY

_log = logging.getLogger(__name__)


class UnknownQuery(InvalidInput):
    code = "unknown_query"
    error_type = "UnknownQuery"


class QueryFailed(InvalidInput):
    code = "query_failed"
    error_type = "QueryFailed"


class WorkflowActor(pykka.ThreadingActor):
    """One resident workflow. Started by the residency manager under the workflow supervisor."""

    use_daemon_thread = True

    def __init__(self, runtime: Runtime, workflow_id: str) -> None:
        super().__init__()
        self.rt = runtime
        self.workflow_id = workflow_id
        self.driver: WorkflowDriver | None = None
        self.recorder: Recorder | None = None
        self.namespace = DEFAULT_NAMESPACE
        self.problem: str | None = None

    # ---- start: replay, then continue --------------------------------------------------
    def on_start(self) -> None:
        self.rt.residency.bind(self.workflow_id, self.actor_ref)
        history = self.rt.store.read_history(self.workflow_id)
        last_time = history[-1].recorded_at if history else None
        self.recorder = Recorder(
            self.workflow_id, len(history), last_time, self.rt.writer, self.rt.clock
        )
        if status_from_events(history).is_terminal:
            return
        segment = last_run_segment(history)
        if not segment:
            self.problem = "history has no WorkflowStarted"
            return
        started = segment[0]
        assert isinstance(started, ev.WorkflowStarted)
        self.namespace = _namespace_of(segment)
        try:
            definition = self.rt.registry.workflow(started.workflow_type)
        except WorkflowTypeNotFound as exc:
            # Parked, not failed: registering the type and restarting resumes it.
            self.problem = exc.message
            _log.error("workflow %s cannot run: %s", self.workflow_id, exc.message)
            return
        self.driver = WorkflowDriver(definition, started, self.namespace)
        try:
            self.driver.start()
            for event in segment[1:]:
                self.driver.apply(event)
        except NonDeterminismError as violation:
            self._fail_run(WorkflowError.from_exception(violation))
            return
        self.driver.replaying = False
        self._progress()
        self._resume_in_flight()

    def _resume_in_flight(self) -> None:
        """After replay: re-dispatch activities without an outcome, re-arm pending timers."""
        driver = self.driver
        if driver is None or driver.terminal is not None:
            return
        for activity_id, state in driver.activities.items():
            if state.settled or state.attempt == 0:
                continue
            if self.rt.executor.in_flight(self.workflow_id, activity_id) is None:
                # At-least-once: the recorded attempt may or may not have run; a new
                # attempt continues the trail so each recorded attempt runs once.
                attempt = state.attempt + 1
                self.recorder_().record_one(
                    ev.ActivityStarted, activity_id=activity_id, attempt=attempt
                )
                state.attempt = attempt
                self._dispatch(state, attempt, delay=0.0)
        for timer_id, timer in list(driver.timers.items()):
            if not timer.settled and timer.recorded:
                self._arm(timer_id, timer.command)

    # ---- messages ----------------------------------------------------------------------
    def on_receive(self, message: Any) -> Any:
        self.rt.residency.touch(self.workflow_id)
        match message:
            case msg.ActivityDone(outcome=outcome):
                self._on_activity(outcome)
            case msg.TimerDue(timer_id=timer_id):
                self._on_timer(timer_id)
            case msg.DeliverSignal(name=name, payload=payload):
                return self._on_signal(name, payload)
            case msg.RunQuery(name=name, args=args):
                return self._on_query(name, args)
            case msg.CancelRun(reason=reason):
                return self._on_cancel(reason)
            case msg.Describe():
                return self._describe()
            case _Apply(event=event):
                if self.driver is not None and self.driver.terminal is None:
                    self._apply_event(event)
            case _:
                raise TypeError(f"workflow actor got an unknown message {message!r}")
        return None

    def _live(self) -> WorkflowDriver:
        if self.driver is None or self.driver.terminal is not None:
            raise NotRunning(self.problem or f"workflow {self.workflow_id!r} is not running")
        return self.driver

    def _on_signal(self, name: str, payload: Any) -> None:
        driver = self._live()
        event = self.recorder_().record_one(ev.SignalReceived, name=name, payload=payload)
        # Durable now; applying it is engine work: a fault here must crash the actor
        # (not just fail this ask), so it is handed to a tell.
        self.actor_ref.tell(_Apply(event))
        del driver

    def _on_query(self, name: str, args: tuple[Any, ...]) -> Any:
        driver = self._live()
        if name not in driver.definition.queries:
            raise UnknownQuery(f"workflow type {driver.definition.name!r} has no query {name!r}")
        try:
            return driver.query(name, args)
        except Exception as exc:
            raise QueryFailed(f"query {name!r} failed: {type(exc).__name__}: {exc}") from exc

    def _on_cancel(self, reason: str) -> None:
        driver = self._live()
        specs: list[EventSpec] = [(ev.WorkflowCancelled, {"reason": reason})]
        for timer_id, timer in driver.timers.items():
            if not timer.settled and timer.recorded:
                specs.append(
                    (
                        ev.TimerCancelled,
                        {"timer_id": timer_id, "cause": ev.TimerCancelCause.CANCEL_TEARDOWN},
                    )
                )
        for activity_id, state in driver.activities.items():
            if not state.settled and state.attempt > 0:
                specs.append(
                    (ev.ActivityCancelled, {"activity_id": activity_id, "attempt": state.attempt})
                )
        self.recorder_().record(specs)
        self._teardown()
        self.driver = None
        self.problem = f"workflow {self.workflow_id!r} was cancelled"

    def _describe(self) -> dict[str, Any]:
        driver = self.driver
        if driver is None or driver.terminal is not None:
            return {"pending_activities": [], "pending_timers": [], "problem": self.problem}
        return {
            "pending_activities": [
                {
                    "activity_id": aid,
                    "activity_type": state.command.activity_type,
                    "attempt": state.attempt,
                }
                for aid, state in driver.activities.items()
                if not state.settled
            ],
            "pending_timers": [
                {"timer_id": str(tid), "fire_at": timer.command.fire_at}
                for tid, timer in driver.timers.items()
                if not timer.settled
            ],
            "problem": self.problem,
        }

    # ---- outcomes --------------------------------------------------------------------------
    def _on_activity(self, outcome: ActivityOutcome) -> None:
        task = outcome.task
        driver = self.driver
        state = driver.activities.get(task.activity_id) if driver is not None else None
        if driver is None or driver.terminal is not None or state is None:
            return
        if state.settled or task.attempt != state.attempt:
            return  # cancelled meanwhile, or a stale attempt: nothing to record
        match outcome:
            case ActivitySucceeded(result=result):
                self._apply_recorded(
                    [
                        (
                            ev.ActivityCompleted,
                            {
                                "activity_id": task.activity_id,
                                "result": result,
                                "attempt": task.attempt,
                            },
                        )
                    ]
                )
            case ActivityAttemptFailed(error=error):
                self._on_attempt_failed(state, task, error)
            case ActivityTimedOut():
                self._on_attempt_failed(state, task, outcome.error)
            case ActivityWasCancelled():
                self._apply_recorded(
                    [
                        (
                            ev.ActivityCancelled,
                            {"activity_id": task.activity_id, "attempt": task.attempt},
                        )
                    ]
                )

    def _on_attempt_failed(
        self, state: ActivityState, task: ActivityTask, error: ActivityError
    ) -> None:
        policy = state.command.options.retry_policy or NO_RETRY
        retry = error.kind == ActivityErrorKind.RETRYABLE and policy.allows_retry(
            task.attempt, error.type
        )
        if not retry:
            final = error.model_copy(update={"kind": ActivityErrorKind.TERMINAL})
            self._apply_recorded(
                [
                    (
                        ev.ActivityFailed,
                        {"activity_id": task.activity_id, "error": final, "attempt": task.attempt},
                    )
                ]
            )
            return
        attempt = task.attempt + 1
        failed, _ = self.recorder_().record(
            [
                (
                    ev.ActivityFailed,
                    {"activity_id": task.activity_id, "error": error, "attempt": task.attempt},
                ),
                (ev.ActivityStarted, {"activity_id": task.activity_id, "attempt": attempt}),
            ]
        )
        state.attempt = attempt
        # The backoff runs from the recorded failure, so it means the same whenever we get here.
        due = failed.recorded_at + timedelta(seconds=policy.delay_after(task.attempt))
        self._dispatch(state, attempt, delay=max((due - self.rt.clock.now()).total_seconds(), 0.0))

    def _on_timer(self, timer_id: TimerId) -> None:
        driver = self.driver
        timer = driver.timers.get(timer_id) if driver is not None else None
        if driver is None or driver.terminal is not None or timer is None or timer.settled:
            self.rt.timers.forget(self.workflow_id, timer_id)
            return
        self._apply_recorded([(ev.TimerFired, {"timer_id": timer_id})])
        self.rt.timers.forget(self.workflow_id, timer_id)

    # ---- recording and acting -----------------------------------------------------------
    def _apply_event(self, event: ev.Event) -> None:
        self.driver_().apply(event)
        self._progress()

    def _apply_recorded(self, specs: list[EventSpec]) -> None:
        """Record outcome events, show them to the code, then record what it asks next."""
        driver = self.driver
        assert driver is not None
        for event in self.recorder_().record(specs):
            driver.apply(event)
        self._progress()

    def _progress(self) -> None:
        """Record the code's new commands (their events), then carry them out."""
        driver = self.driver
        assert driver is not None
        while commands := driver.unmatched_commands():
            specs: list[EventSpec] = []
            for command in commands:
                specs.extend(self._events_for(command))
            for event in self.recorder_().record(specs):
                driver.apply(event)
            for command in commands:
                self._act(command)

    def _events_for(self, command: Command) -> list[EventSpec]:
        driver = self.driver
        assert driver is not None
        match command:
            case ScheduleActivity(activity_id=aid, activity_type=kind, input=arg, options=options):
                return [
                    (
                        ev.ActivityScheduled,
                        {
                            "activity_id": aid,
                            "activity_type": kind,
                            "input": arg,
                            "task_queue": options.task_queue,
                        },
                    ),
                    (ev.ActivityStarted, {"activity_id": aid, "attempt": 1}),
                ]
            case RequestCancelActivity(activity_id=aid):
                attempt = driver.activities[aid].attempt
                return [(ev.ActivityCancelled, {"activity_id": aid, "attempt": attempt})]
            case StartTimer(timer_id=tid, fire_at=fire_at):
                return [(ev.TimerStarted, {"timer_id": tid, "fire_at": fire_at})]
            case CancelTimer(timer_id=tid):
                return [
                    (
                        ev.TimerCancelled,
                        {"timer_id": tid, "cause": ev.TimerCancelCause.WORKFLOW_INTENT},
                    )
                ]
            case CompleteWorkflow(result=result):
                return [(ev.WorkflowCompleted, {"result": result})]
            case FailWorkflow(error=error):
                return [(ev.WorkflowFailed, {"error": error})]
        raise TypeError(f"unknown command {command!r}")  # pragma: no cover

    def _act(self, command: Command) -> None:
        driver = self.driver
        assert driver is not None
        match command:
            case ScheduleActivity(activity_id=aid):
                state = driver.activities[aid]
                state.attempt = max(state.attempt, 1)
                self._dispatch(state, state.attempt, delay=0.0)
            case RequestCancelActivity(activity_id=aid):
                self.rt.executor.cancel(self.workflow_id, aid)
            case StartTimer(timer_id=tid):
                self._arm(tid, driver.timers[tid].command)
            case CancelTimer(timer_id=tid):
                self.rt.timers.cancel(self.workflow_id, tid)
            case CompleteWorkflow() | FailWorkflow():
                self._teardown()

    def _dispatch(self, state: ActivityState, attempt: int, delay: float) -> None:
        command = state.command
        task = ActivityTask(
            workflow_id=self.workflow_id,
            run_id=self.driver_().started.run_id,
            activity_id=command.activity_id,
            activity_type=command.activity_type,
            input=command.input,
            attempt=attempt,
            namespace=self.namespace,
            task_queue=command.options.task_queue,
            start_to_close_timeout=command.options.start_to_close_timeout,
            heartbeat_timeout=command.options.heartbeat_timeout,
            delay=delay,
        )
        self.rt.executor.submit(task, self.rt.on_activity_outcome)

    def _arm(self, timer_id: TimerId, command: StartTimer) -> None:
        self.rt.timers.schedule(self.workflow_id, timer_id, command.fire_at)

    def _fail_run(self, error: WorkflowError) -> None:
        self.recorder_().record_one(ev.WorkflowFailed, error=error)
        self._teardown()

    def _teardown(self) -> None:
        """The run is over: stop its activities and timers; the residency will evict it."""
        self.rt.executor.cancel_workflow(self.workflow_id)
        self.rt.timers.cancel_all(self.workflow_id)
        if self.driver is not None:
            self.driver.close()
        self.rt.residency.retire(self.workflow_id)

    def recorder_(self) -> Recorder:
        assert self.recorder is not None
        return self.recorder

    def driver_(self) -> WorkflowDriver:
        assert self.driver is not None
        return self.driver


@dataclass(frozen=True)
class _Apply:
    """Tell to self: show a just-recorded signal to the code (faults here crash the actor)."""

    event: ev.Event


def _namespace_of(segment: list[ev.Event]) -> str:
    namespace = DEFAULT_NAMESPACE
    for event in segment:
        if isinstance(event, ev.SearchAttributesUpdated):
            value = event.attributes.get(NAMESPACE_ATTRIBUTE)
            if isinstance(value, StringValue):
                namespace = value.data
    return namespace
