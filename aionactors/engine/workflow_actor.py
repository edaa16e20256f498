"""The workflow actor: owns one resident workflow's driver and recorder.

On start it replays the history (re-executing the code against recorded
results), records whatever the code asks for next, and picks up work left in
flight (activities to re-dispatch, timers to re-arm, children to start). Then
it reacts to messages: each outcome is recorded first and only then shown to
the code. Any unexpected fault raises out of a tell handler: the actor crashes,
its supervisor starts a fresh one, and that one replays — history is never
half-written because every append is all-or-nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pykka

from aionactors import tracing
from aionactors.core import events as ev
from aionactors.core.errors import (
    InvalidInput,
    InvalidState,
    NotRunning,
    QueryFailed,
    SequenceConflict,
    UnknownQuery,
    UnknownVersion,
    WorkflowTypeNotFound,
)
from aionactors.core.ids import TimerId
from aionactors.core.payload import ActivityError, ActivityErrorKind, WorkflowError
from aionactors.core.search import DEFAULT_NAMESPACE, BoolValue, SearchAttributes, namespace_of
from aionactors.core.status import WorkflowStatus, last_run_segment, status_from_events
from aionactors.core.visibility import attributes_of
from aionactors.core.workflow_keys import peer_key, public_id
from aionactors.engine import messages as msg
from aionactors.engine import oplog
from aionactors.engine.activities import (
    ActivityAttemptFailed,
    ActivityOutcome,
    ActivitySucceeded,
    ActivityTask,
    ActivityTimedOut,
    ActivityWasCancelled,
)
from aionactors.engine.command_events import events_for, teardown_events
from aionactors.engine.dispatcher import Dispatcher, PooledActor
from aionactors.engine.recorder import EventSpec, Recorder
from aionactors.engine.runtime import Runtime
from aionactors.workflow.commands import (
    CancelTimer,
    CancelWorkflow,
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    ParentClosePolicy,
    RequestCancelActivity,
    RequestCancelChild,
    ScheduleActivity,
    SignalExternal,
    StartChild,
    StartTimer,
)
from aionactors.workflow.driver import WorkflowDriver
from aionactors.workflow.errors import NonDeterminismError
from aionactors.workflow.payloads import PayloadValidationError
from aionactors.workflow.reopen import attempt_bases, effective_segment
from aionactors.workflow.replayer import replay
from aionactors.workflow.retry import NO_RETRY
from aionactors.workflow.state import ActivityState
from aionactors.workflow.updates import validate_update

_log = logging.getLogger(__name__)

COMPENSATING_ATTRIBUTE = "aion.compensating"
"""Set by engines before cancel requests existed while cancelled code compensated (its
status already said Cancelled); still read, so such a compensation finishes after an upgrade."""


def deadline_timer(run_id: str) -> TimerId:
    """The engine-owned timer that ends a run at its execution timeout."""
    return TimerId.named(f"deadline:{run_id}")


class WorkflowActor(PooledActor):
    """One resident workflow. Started by the residency manager under the workflow supervisor.

    A pykka actor on the engine's dispatcher: resident workflows share its threads.
    """

    def __init__(self, runtime: Runtime, workflow_id: str) -> None:
        super().__init__()
        self.rt = runtime
        self.workflow_id = workflow_id
        self.driver: WorkflowDriver | None = None
        self.recorder: Recorder | None = None
        self.namespace = DEFAULT_NAMESPACE
        self.attributes: SearchAttributes = {}
        self.problem: str | None = None
        self.paused = False
        self._held: list[tuple[ActivityState, int, float]] = []
        self._ended = False
        self._attempt_base: dict[int, int] = {}
        self._broken: Exception | None = None

    def dispatcher(self) -> Dispatcher:
        return self.rt.dispatcher

    def on_undelivered(self, messages: list[Any]) -> None:
        """Outcomes that arrived behind an eviction's stop go to the next incarnation."""
        for message in messages:
            if isinstance(message, _REDELIVERED):
                self.rt.ops.redeliver(self.workflow_id, message)

    # ---- start: replay, then continue --------------------------------------------------
    def on_start(self) -> None:
        self.rt.residency.bind(self.workflow_id, self.actor_ref)
        self._boot()

    def _boot(self) -> None:
        history = self.rt.history_of(self.workflow_id)
        last_time = history[-1].recorded_at if history else None
        known_wake = True if self.workflow_id in self.rt.woken else None
        self.rt.woken.discard(self.workflow_id)
        self.recorder = Recorder(
            self.workflow_id,
            len(history),
            last_time,
            self.rt.writer,
            self.rt.clock,
            self._wake,
            known_wake,
        )
        self.driver = None
        self._ended = False
        status = status_from_events(history)
        segment = last_run_segment(history)
        if not segment:
            self.problem = _NO_HISTORY
            return
        self._read_attributes(segment)
        self._attempt_base = attempt_bases(segment)
        compensating = self.attributes.get(COMPENSATING_ATTRIBUTE) == BoolValue(data=True)
        if status.is_terminal and not (status == WorkflowStatus.CANCELLED and compensating):
            self.rt.residency.retire(self.workflow_id)
            return
        self.paused = status == WorkflowStatus.PAUSED
        started = segment[0]
        assert isinstance(started, ev.WorkflowStarted)
        if started.parent_workflow_id:
            self.rt.ops.watch_child(self.workflow_id, started.parent_workflow_id)
        try:
            definition = self.rt.registry.workflow(started.workflow_type, started.package_version)
        except (WorkflowTypeNotFound, UnknownVersion) as exc:
            # Parked, not failed: registering the type and restarting resumes it.
            self.problem = exc.message
            _log.error("workflow %s cannot run: %s", self.workflow_id, exc.message)
            return
        try:
            self.driver = replay(definition, segment, self.rt.schema)
        except NonDeterminismError as violation:
            self._record_terminal(
                [(ev.WorkflowFailed, {"error": WorkflowError.from_exception(violation)})]
            )
            return
        self._resume_in_flight(segment)  # before new commands: only what history already holds
        self._progress()
        if not self._ended:
            self.recorder_().settle_wake()

    def _wake(self) -> bool | None:
        """Must recovery boot this workflow? Only for work a replay resumes: an activity in
        flight (re-dispatched) or a child to watch. Timers have rows; signals rehydrate."""
        driver = self.driver
        if driver is None or driver.finished:
            return None  # the events decide: an end clears the flag, a successor's start sets it
        return any(not a.settled for a in driver.activities.values()) or any(
            c.recorded and not c.settled for c in driver.children.values()
        )

    def _read_attributes(self, segment: list[ev.Event]) -> None:
        self.attributes = attributes_of(segment)
        self.namespace = namespace_of(self.attributes)

    def _resume_in_flight(self, segment: list[ev.Event]) -> None:
        """After replay: re-dispatch activities, re-arm timers, start or settle children."""
        driver = self.driver
        if driver is None or driver.finished:
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
        # Pending timers have rows (written with their TimerStarted), unless a reopen
        # revived timers whose rows the run's end removed.
        persist = any(isinstance(e, ev.WorkflowReopened) for e in segment)
        for timer_id, timer in list(driver.timers.items()):
            if not timer.settled and timer.recorded:
                fire_at = timer.command.fire_at
                self.rt.timers.ensure(self.workflow_id, timer_id, fire_at, persist=persist)
        deadline = _live_deadline(segment)
        if deadline is not None:
            self.rt.timers.ensure(self.workflow_id, *deadline, persist=persist)
        for child in driver.children.values():
            if child.recorded and not child.settled:
                self.rt.ops.ensure_child(
                    self.workflow_id, self.namespace, child.command, child.package_version
                )

    # ---- messages ----------------------------------------------------------------------
    def on_receive(self, message: Any) -> Any:
        self.rt.residency.touch(self.workflow_id)
        if self._broken is not None:
            if isinstance(message, _ASKS):
                raise pykka.ActorDeadError(f"workflow {self.workflow_id!r} is restarting")
            raise self._broken  # a tell: crash, so the supervisor restarts and replays
        match message:
            case msg.ActivityDone(outcome=outcome):
                self._on_activity(outcome)
            case msg.TimerDue(timer_id=timer_id, fire_at=fire_at):
                self._on_timer(timer_id, fire_at)
            case msg.ChildDone():
                self._on_child(message)
            case msg.BeginRun(events=events):
                return self._on_begin(events)
            case msg.DeliverSignal(name=name, payload=payload):
                return self._on_signal(name, payload)
            case msg.RunQuery(name=name, args=args):
                return self._on_query(name, args)
            case msg.RunUpdate():
                return self._on_update(message)
            case msg.CancelRun(reason=reason, terminate=terminate):
                return self._on_cancel(reason, terminate)
            case msg.PauseRun(reason=reason, operator=operator):
                return self._on_pause(reason, operator)
            case msg.ResumeRun(operator=operator):
                return self._on_resume(operator)
            case msg.Ping():
                return None
            case _:
                raise TypeError(f"workflow actor got an unknown message {message!r}")
        return None

    def _on_begin(self, events: list[ev.Event]) -> None:
        """A new workflow: its start and the code's first reaction, one append.

        Raises SequenceConflict if this id already has a history (the engine then looks at
        it). Should the code's step fault, the start alone is recorded (flagged for
        recovery) and the actor restarts; should the append fail, nothing is durable and
        the actor goes back to what the store holds.
        """
        recorder = self.recorder_()
        if recorder.head or recorder.staged or self.driver is not None:
            raise SequenceConflict(self.workflow_id, 0, recorder.head)  # it has a history
        started = events[0]
        assert isinstance(started, ev.WorkflowStarted)
        definition = self.rt.registry.workflow(started.workflow_type, started.package_version)
        recorder.stage_built(events)
        self.problem, self.paused, self._attempt_base = None, False, {}
        self._read_attributes(events)
        if started.parent_workflow_id:  # before the append: a child may end in its first step
            self.rt.ops.watch_child(self.workflow_id, started.parent_workflow_id)
        try:
            driver = self.driver = replay(definition, events, self.rt.schema)
            self._progress()
        except Exception as exc:
            if self._keep_input(exc, len(events), durable_at=len(events)):
                return
            self._forget_start(exc)  # the append itself failed: nothing is durable
            raise  # and the caller hears why
        deadline = _live_deadline(events)
        if deadline is not None and self.driver is driver and not driver.finished:
            self.rt.timers.arm(self.workflow_id, *deadline)  # its row came with the start

    def _forget_start(self, exc: Exception) -> None:
        """Back to an id with no history, as the store still has it (no read: the store may
        be down); a conflict means another writer recorded one: restart and replay it."""
        if isinstance(exc, SequenceConflict):
            self._crash_later(exc)
            return
        self.driver, self.attributes = None, {}
        self.problem = _NO_HISTORY
        self.recorder = Recorder(
            self.workflow_id, 0, None, self.rt.writer, self.rt.clock, self._wake
        )

    def _live(self) -> WorkflowDriver:
        if self.driver is None or self.driver.finished or self.driver.cancelled:
            raise NotRunning(self.problem or f"workflow {self.workflow_id!r} is not running")
        return self.driver

    def _on_signal(self, name: str, payload: Any) -> None:
        driver = self._live()
        with self._span(f"signal {name}"):
            specs: list[EventSpec] = [(ev.SignalReceived, {"name": name, "payload": payload})]
            self._input_step(specs, driver)

    def _input_step(self, specs: list[EventSpec], driver: WorkflowDriver) -> None:
        """Record an input together with the code's reaction to it: one append.

        The caller is told yes once the input is durable. A fault while the code reacts is
        the engine's, not the caller's: the input alone is recorded (flagged for recovery,
        since nothing reacted to it) and the actor restarts and replays.
        """
        recorder = self.recorder_()
        inputs = recorder.stage(specs)
        durable_at = recorder.head + len(inputs)
        try:
            for event in inputs:
                driver.apply(event)
            self._progress()
        except Exception as exc:
            if self._keep_input(exc, len(inputs), durable_at):
                return
            self._crash_later(exc)
            raise  # the append itself failed: nothing is durable and the caller hears why

    def _keep_input(self, exc: Exception, inputs: int, durable_at: int) -> bool:
        """After a fault in a step that began with ``inputs`` staged events: True if the
        input is durable now (with its reaction, or alone, flagged for recovery) and the
        actor restarts to replay it; False if the append itself failed (nothing durable)."""
        recorder = self.recorder_()
        if recorder.head >= durable_at:
            self._crash_later(exc)  # recorded with its reaction; acting on it failed
            return True
        if recorder.staged:  # the reaction faulted before its append: keep the input
            self._crash_later(exc)
            recorder.keep_staged(inputs)
            recorder.flush(wake=True)  # should this fail too, the caller hears why
            return True
        return False

    def _sibling(self, workflow_id: str) -> str:
        """The key of a workflow this code names (a child, a signal target): ours is its
        namespace."""
        return peer_key(self.namespace, workflow_id)

    def _span(self, name: str) -> contextlib.AbstractContextManager[None]:
        """A span in this run's trace (tracing.py); none when the run is not traced."""
        carrier = self.driver.started.trace_context if self.driver is not None else None
        if carrier is None:
            return contextlib.nullcontext()
        attributes = {
            "workflow.id": public_id(self.workflow_id),
            "workflow.namespace": self.namespace,
        }
        return tracing.span(name, carrier=carrier, attributes=attributes)

    def _on_update(self, update: msg.RunUpdate) -> None:
        driver = self._live()
        validate_update(driver, update.name, update.args)  # refused: nothing is recorded
        fields = {"update_id": update.update_id, "name": update.name, "args": update.args}
        self._input_step([(ev.UpdateAccepted, fields)], driver)

    def _guarded(self, work: Callable[[], object]) -> None:
        """Run engine work inside an ask; a fault crashes the actor instead of the caller.

        An exception in an ask goes back to the caller and the actor lives on, possibly
        broken. So the fault is kept, and the actor crashes on its next message.
        """
        try:
            work()
        except Exception as exc:
            self._crash_later(exc)

    def _crash_later(self, exc: Exception) -> None:
        if self._broken is None:
            _log.error(
                "workflow %s faulted inside an ask; restarting it",
                self.workflow_id,
                exc_info=exc,
            )
            self._broken = exc
            self.actor_ref.tell(_Crash())

    def _on_query(self, name: str, args: tuple[Any, ...]) -> Any:
        driver = self._live()
        if name not in driver.definition.queries:
            raise UnknownQuery(f"workflow type {driver.definition.name!r} has no query {name!r}")
        try:
            with self._span(f"query {name}"):
                return driver.query(name, args)
        except PayloadValidationError as exc:
            raise InvalidInput(str(exc)) from None
        except Exception as exc:
            raise QueryFailed(f"query {name!r} failed: {type(exc).__name__}: {exc}") from exc

    def _on_cancel(self, reason: str, terminate: bool) -> None:
        """Terminate: record the end now, the code gets no further step. Cancel: record the
        request (and the teardown of its timers and activities); the code is told and the
        run ends when the code does, so waiters see its compensation before the end."""
        driver = self._live()
        if terminate:
            self._record_terminal(
                [(ev.WorkflowCancelled, {"reason": reason}), *teardown_events(driver)]
            )
            return
        if driver.cancel_requested is not None:
            return  # already requested: the code is handling it
        specs: list[EventSpec] = [(ev.WorkflowCancelRequested, {"reason": reason})]
        recorded = self.recorder_().record([*specs, *teardown_events(driver)])
        self._stop_work(ended=False)  # still running (compensating): delete the rows here

        def compensate() -> None:  # the code sees CancelledError and may compensate
            for event in recorded:
                driver.apply(event)
            self._progress()

        self._guarded(compensate)

    def _on_pause(self, reason: str | None, operator: str | None) -> dict[str, str]:
        driver = self._live()
        if self.paused:
            raise InvalidState(f"workflow {self.workflow_id!r} is already paused")
        self.recorder_().record_one(
            ev.WorkflowPaused, run_id=driver.started.run_id, reason=reason, operator=operator
        )
        self.paused = True
        return self._state(WorkflowStatus.PAUSED)

    def _on_resume(self, operator: str | None) -> dict[str, str]:
        driver = self._live()
        if not self.paused:
            raise InvalidState(f"workflow {self.workflow_id!r} is not paused")
        self.recorder_().record_one(
            ev.WorkflowResumed, run_id=driver.started.run_id, operator=operator
        )
        self.paused = False
        held, self._held = self._held, []
        for state, attempt, delay in held:
            self._dispatch(state, attempt, delay)
        return self._state(WorkflowStatus.RUNNING)

    def _state(self, status: WorkflowStatus) -> dict[str, str]:
        run_id = self.driver_().started.run_id
        return {"workflow_id": self.workflow_id, "run_id": run_id, "status": status.value}

    # ---- outcomes --------------------------------------------------------------------------
    def _on_activity(self, outcome: ActivityOutcome) -> None:
        task = outcome.task
        driver = self.driver
        state = driver.activities.get(task.activity_id) if driver is not None else None
        if driver is None or driver.finished or state is None:
            return
        if task.run_id != driver.started.run_id:
            return  # an earlier run's (ids start at 0 again in each run): not this run's
        if state.settled or task.attempt != state.attempt:
            return  # cancelled meanwhile, or a stale attempt: nothing to record
        key = {"activity_id": task.activity_id, "attempt": task.attempt}
        match outcome:
            case ActivitySucceeded(result=result):
                self._apply_recorded([(ev.ActivityCompleted, {**key, "result": result})])
            case ActivityAttemptFailed(error=error):
                self._on_attempt_failed(state, task, error)
            case ActivityTimedOut():
                self._on_attempt_failed(state, task, outcome.error)
            case ActivityWasCancelled():
                self._apply_recorded([(ev.ActivityCancelled, key)])

    def _on_attempt_failed(
        self, state: ActivityState, task: ActivityTask, error: ActivityError
    ) -> None:
        policy = state.command.options.retry_policy or NO_RETRY
        in_budget = task.attempt - self._attempt_base.get(task.activity_id, 0)
        retry = error.kind == ActivityErrorKind.RETRYABLE and policy.allows_retry(
            in_budget, error.type
        )
        key = {"activity_id": task.activity_id, "attempt": task.attempt}
        if not retry:
            final = error.model_copy(update={"kind": ActivityErrorKind.TERMINAL})
            self._apply_recorded([(ev.ActivityFailed, {**key, "error": final})])
            oplog.activity_failed(task, final, retry_in=None)
            return
        attempt = task.attempt + 1
        failed, _ = self.recorder_().record(
            [
                (ev.ActivityFailed, {**key, "error": error}),
                (ev.ActivityStarted, {"activity_id": task.activity_id, "attempt": attempt}),
            ]
        )
        state.attempt = attempt
        # The backoff runs from the recorded failure, so it means the same whenever we get here.
        due = failed.recorded_at + timedelta(seconds=policy.delay_after(in_budget))
        oplog.activity_failed(task, error, retry_in=policy.delay_after(in_budget))
        self._dispatch(state, attempt, delay=max((due - self.rt.clock.now()).total_seconds(), 0.0))

    def _on_timer(self, timer_id: TimerId, fire_at: datetime) -> None:
        driver = self.driver
        live = driver is not None and not driver.finished and not driver.cancelled
        if live and driver is not None and timer_id == deadline_timer(driver.started.run_id):
            self._record_terminal(
                [(ev.WorkflowTimedOut, {"timeout": "workflow"}), *teardown_events(driver)]
            )
            return
        timer = driver.timers.get(timer_id) if driver is not None else None
        if timer is not None and timer.command.fire_at != fire_at:
            return  # an earlier run's timer of the same id: not this run's to fire
        if live and timer is not None and not timer.settled:
            self.rt.timers.disarm(self.workflow_id, timer_id)  # TimerFired removes its row
            with self._span(f"timer fire {timer_id}"):
                self._apply_recorded([(ev.TimerFired, {"timer_id": timer_id})])
        else:
            self.rt.timers.cancel(self.workflow_id, timer_id)  # a row nothing will settle

    def _on_child(self, done: msg.ChildDone) -> None:
        driver = self.driver
        child = driver.children.get(done.child_workflow_id) if driver is not None else None
        if driver is None or driver.finished or child is None or child.settled:
            return
        key = {"child_workflow_id": done.child_workflow_id}
        if done.error is not None:
            spec: EventSpec = (ev.ChildWorkflowFailed, {**key, "error": done.error})
        elif done.cancelled:
            spec = (ev.ChildWorkflowCancelled, key)
        else:
            spec = (ev.ChildWorkflowCompleted, {**key, "result": done.result})
        self._apply_recorded([spec])

    # ---- recording and acting -----------------------------------------------------------
    def _apply_recorded(self, specs: list[EventSpec]) -> None:
        """Show outcome events to the code, then record them with what it asks next.

        The outcome and the commands it leads to go in one append; nothing is acted on
        before that append commits (a crash in between replays from the last commit).
        """
        driver = self.driver_()
        for event in self.recorder_().stage(specs):
            driver.apply(event)
        self._progress()

    def _progress(self) -> None:
        """Record the code's new commands (their events), then carry them out."""
        driver = self.driver_()
        issued: list[Command] = []
        while commands := driver.unmatched_commands():
            specs: list[EventSpec] = []
            for command in commands:
                specs.extend(
                    events_for(command, driver, self.attributes, self.rt.registry.version_for)
                )
            for event in self.recorder_().stage(specs):
                driver.apply(event)
            issued.extend(commands)
            if any(isinstance(c, ContinueAsNew) for c in commands):
                break
        self.recorder_().flush()  # durable first, then acted on
        for command in issued:
            self._act(command)
        if any(isinstance(c, ContinueAsNew) for c in issued):
            self.rt.woken.add(self.workflow_id)  # the successor's start set the flag
            self._boot()  # the successor run, from its own WorkflowStarted
            return
        if driver.finished:
            self._after_code_ended()

    def _act(self, command: Command) -> None:
        driver = self.driver_()
        match command:
            case ScheduleActivity(activity_id=aid):
                state = driver.activities[aid]
                state.attempt = max(state.attempt, 1)
                self._dispatch(state, state.attempt, delay=0.0)
            case RequestCancelActivity(activity_id=aid):
                self.rt.executor.cancel(self.workflow_id, aid)
            case StartTimer(timer_id=tid, fire_at=fire_at):
                self.rt.timers.arm(self.workflow_id, tid, fire_at)  # its row came with the event
            case CancelTimer(timer_id=tid):
                self.rt.timers.disarm(self.workflow_id, tid)  # the row went with the event
            case StartChild(child_workflow_id=child_id):
                # the child's WorkflowStarted records this span: one trace
                version = driver.children[child_id].package_version
                with self._span(f"child start {command.workflow_type}"):
                    self.rt.ops.ensure_child(self.workflow_id, self.namespace, command, version)
            case RequestCancelChild(child_workflow_id=child):
                self.rt.ops.close_child(self._sibling(child), ParentClosePolicy.REQUEST_CANCEL)
            case SignalExternal(target_workflow_id=target, name=name, payload=payload):
                self.rt.ops.send_signal(self._sibling(target), name, payload)
            case ContinueAsNew():
                self._stop_work()  # the successor run starts clean; children carry on
            case CompleteWorkflow() | FailWorkflow() | CancelWorkflow():
                oplog.code_ended(self.workflow_id, driver.started.run_id, command)
                self._stop_work()
                self._after_code_ended()

    def _dispatch(self, state: ActivityState, attempt: int, delay: float) -> None:
        if self.paused:
            self._held.append((state, attempt, delay))
            return
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
            schedule_to_start_timeout=command.options.schedule_to_start_timeout,
            delay=delay,
            package_version=self.driver_().started.package_version,
            trace_context=self.driver_().started.trace_context,
        )
        self.rt.executor.submit(task, self.rt.on_activity_outcome)

    def _record_terminal(self, specs: list[EventSpec]) -> None:
        """Record an engine-decided end (failure, timeout, terminate) and stop the run."""
        self.recorder_().record(specs)
        oplog.terminal_recorded(self.workflow_id, self.driver and self.driver.started.run_id, specs)
        self._stop_work()
        if self.driver is not None:
            self.driver.finished = True
            self.driver.close()
        self._after_code_ended()

    def _stop_work(self, *, ended: bool = True) -> None:
        """Stop the run's activities and timers (their outcomes are no longer wanted).

        ``ended``: the run's end is recorded, and its append removed the timer rows.
        """
        self.rt.executor.cancel_workflow(self.workflow_id)
        self.rt.timers.cancel_all(self.workflow_id, rows=not ended)
        self._held.clear()

    def _after_code_ended(self) -> None:
        """Close children by their policies, clear the compensation mark, let residency evict."""
        if self._ended:
            return
        self._ended = True
        driver = self.driver
        if (
            driver is not None
            and driver.finished
            and not isinstance(driver.terminal, ContinueAsNew)
        ):
            self._close_children(driver)
        if self.attributes.get(COMPENSATING_ATTRIBUTE) == BoolValue(data=True):
            done = {COMPENSATING_ATTRIBUTE: BoolValue(data=False)}
            self.recorder_().record_one(ev.SearchAttributesUpdated, attributes=done)
            self.attributes = {**self.attributes, **done}
        self.rt.residency.retire(self.workflow_id)

    def _close_children(self, driver: WorkflowDriver) -> None:
        for child in driver.children.values():
            if child.recorded and not child.settled:
                policy = child.command.parent_close_policy
                if policy != ParentClosePolicy.ABANDON:
                    self.rt.ops.close_child(self._sibling(child.command.child_workflow_id), policy)

    def recorder_(self) -> Recorder:
        assert self.recorder is not None
        return self.recorder

    def driver_(self) -> WorkflowDriver:
        assert self.driver is not None
        return self.driver


@dataclass(frozen=True)
class _Crash:
    """Tell to self after a fault inside an ask: crash now, in a tell, so supervision acts."""


_NO_HISTORY = "history has no WorkflowStarted"
"""The problem of an actor whose id has no run (yet)."""

_REDELIVERED = (msg.ActivityDone, msg.TimerDue, msg.ChildDone)
"""Tells that carry an outcome; each is idempotent for the actor that finally gets it."""

_ASKS = (
    msg.BeginRun,
    msg.DeliverSignal,
    msg.RunQuery,
    msg.RunUpdate,
    msg.CancelRun,
    msg.PauseRun,
    msg.ResumeRun,
    msg.Ping,
)


def _live_deadline(segment: list[ev.Event]) -> tuple[TimerId, Any] | None:
    """The run's deadline timer if it is still pending (reopen re-arms a retired one)."""
    pending: dict[TimerId, Any] = {}
    for event in effective_segment(segment):
        if isinstance(event, ev.TimerStarted) and event.timer_id.is_reserved:
            pending[event.timer_id] = event.fire_at
        elif isinstance(event, ev.TimerFired | ev.TimerCancelled):
            pending.pop(event.timer_id, None)
    return next(iter(pending.items()), None)
