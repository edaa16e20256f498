"""The replay driver: runs one run of workflow code against its history, deterministically.

Feed it the run's events in order with :meth:`WorkflowDriver.apply`. Resolution
events (activity results, timer firings, signals) wake the code; command events
(ActivityScheduled, TimerStarted, ...) must match, in order, the commands the
code issued — a mismatch raises NonDeterminismError. Commands the history does
not hold yet are :meth:`unmatched_commands`: the actor records and executes them,
then applies the recorded events like any others. The driver does no I/O.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput
from aionactors.core.ids import TimerId
from aionactors.core.payload import ActivityErrorKind, WorkflowError
from aionactors.core.search import SearchAttributes, SearchAttributeSchema
from aionactors.core.workflow_keys import public_id
from aionactors.workflow import updates
from aionactors.workflow.commands import (
    ActivityOptions,
    CancelTimer,
    CancelWorkflow,
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    ParentClosePolicy,
    RecordPatch,
    RequestCancelActivity,
    RequestCancelChild,
    ScheduleActivity,
    SignalExternal,
    StartChild,
    StartTimer,
    UpsertSearchAttributes,
    describe,
)
from aionactors.workflow.context import running
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.errors import (
    ActivityFailure,
    CancelledError,
    ChildWorkflowFailure,
    ContinueAsNewRequest,
    NonDeterminismError,
    WorkflowAlreadyStarted,
)
from aionactors.workflow.patches import PatchBook
from aionactors.workflow.payloads import PayloadValidationError, call_types, to_json
from aionactors.workflow.scheduler import Scheduler, Task, WorkflowFuture
from aionactors.workflow.state import (
    ActivityState,
    ChildState,
    TimerState,
    WorkflowInfo,
    ensure_json,
)

Terminal = CompleteWorkflow | FailWorkflow | CancelWorkflow | ContinueAsNew


class WorkflowDriver:
    """One run of one workflow, re-executed from its history."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        started: ev.WorkflowStarted,
        namespace: str,
        schema: SearchAttributeSchema | None = None,
    ) -> None:
        self.definition = definition
        self.schema = schema
        self.started = started
        self.namespace = namespace
        self.instance = definition.cls()
        self.scheduler = Scheduler()
        self.activities: dict[int, ActivityState] = {}
        self.timers: dict[TimerId, TimerState] = {}
        self.children: dict[str, ChildState] = {}
        self.replaying = True
        self.terminal: Terminal | None = None
        self.cancel_requested: str | None = None
        """The reason of a recorded cancel request: the code is told, and may compensate."""
        self.cancelled = False
        """Ended by the engine (terminate, or a history from before cancel requests)."""
        self.finished = False
        """True once the code has ended: terminal command issued, or stopped after a cancel."""
        self._unmatched: deque[Command] = deque()
        self._now = started.recorded_at
        seed = hashlib.sha256(f"{started.workflow_id}/{started.run_id}".encode()).digest()
        self.rng = random.Random(int.from_bytes(seed[:8], "big"))
        self._activity_seq = 0
        self._timer_seq = 0
        self._child_seq = 0
        self._root: Task | None = None
        self._handlers: list[Task] = []
        self.update_tasks: list[Task] = []
        """Running ``async def`` update handlers (their failure fails the update, not the run)."""
        self.patches = PatchBook()
        """Set from the run's history before the code starts (see workflow.patched)."""

    # ---- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Run the workflow body from the top until it first waits."""
        method = getattr(self.instance, self.definition.run_name)
        args = (self.started.input,) if self.definition.run_takes_arg else ()
        with running(self):
            try:
                body = method(*call_types(method, method=True).decode(args, "workflow input"))
            except PayloadValidationError as exc:  # recorded input that no longer fits the code
                body = _raising(exc)
            self._root = self.scheduler.spawn(body, "run")
        self._run()

    def apply(self, event: ev.Event) -> None:
        """Apply the run's next recorded event (after its WorkflowStarted)."""
        if self.finished and not self._unmatched:
            return  # the code is over; later events (teardown) need no code
        self._now = event.recorded_at
        handler = self._appliers.get(event.type)
        if handler is not None:
            handler(self, event)
        self._run()

    def unmatched_commands(self) -> list[Command]:
        """Commands issued by the code and not yet found in history: record, then act."""
        return list(self._unmatched)

    def info(self) -> WorkflowInfo:
        parent = self.started.parent_workflow_id
        return WorkflowInfo(
            workflow_id=public_id(self.started.workflow_id),  # as code names workflows
            run_id=self.started.run_id,
            workflow_type=self.started.workflow_type,
            namespace=self.namespace,
            started_at=self.started.recorded_at,
            parent_workflow_id=parent and public_id(parent),
            is_replaying=self.replaying,
        )

    def now(self) -> datetime:
        return self._now

    def close(self) -> None:
        self.scheduler.close()

    # ---- commands issued by workflow code ------------------------------------------------
    def schedule_activity(
        self, activity_type: str, arg: Any, options: ActivityOptions
    ) -> WorkflowFuture:
        arg = ensure_json(to_json(arg), f"input of activity {activity_type!r}")
        activity_id = self._activity_seq
        self._activity_seq += 1
        command = ScheduleActivity(activity_id, activity_type, arg, options)
        future = WorkflowFuture(
            label=f"activity #{activity_id} {activity_type}",
            on_cancel=lambda: self._cancel_activity(activity_id),
        )
        self.activities[activity_id] = ActivityState(command, future)
        self._issue(command)
        return future

    def _cancel_activity(self, activity_id: int) -> None:
        state = self.activities[activity_id]
        if not state.settled:
            state.settled = True
            self._issue(RequestCancelActivity(activity_id))

    def start_timer(self, delay: timedelta) -> WorkflowFuture:
        timer_id = TimerId.anonymous(self._timer_seq)
        self._timer_seq += 1
        command = StartTimer(timer_id, self._now + delay)
        future = WorkflowFuture(
            label=f"timer {timer_id}", on_cancel=lambda: self._cancel_timer(timer_id)
        )
        self.timers[timer_id] = TimerState(command, future)
        self._issue(command)
        return future

    def _cancel_timer(self, timer_id: TimerId) -> None:
        state = self.timers[timer_id]
        if not state.settled:
            state.settled = True
            self._issue(CancelTimer(timer_id))

    def start_child(
        self,
        workflow_type: str,
        arg: Any,
        workflow_id: str | None,
        policy: ParentClosePolicy,
    ) -> tuple[str, WorkflowFuture]:
        arg = ensure_json(to_json(arg), f"input of child workflow {workflow_type!r}")
        ordinal = self._child_seq
        self._child_seq += 1
        child_id = workflow_id or str(
            uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"aion:{self.started.workflow_id}/{self.started.run_id}/{ordinal}",
            )
        )
        if child_id in self.children:
            raise ValueError(f"child workflow id {child_id!r} is already used by this run")
        command = StartChild(ordinal, child_id, workflow_type, arg, policy)
        future = WorkflowFuture(
            label=f"child {child_id}", on_cancel=lambda: self._cancel_child(child_id)
        )
        self.children[child_id] = ChildState(command, future)
        self._issue(command)
        return child_id, future

    def patched(self, change_id: str, *, deprecated: bool = False) -> bool:
        new_branch, record = self.patches.decide(change_id, self.replaying)
        if record:
            self._issue(RecordPatch(change_id, deprecated))
        return new_branch

    def _cancel_child(self, child_id: str) -> None:
        """The wait on the child was cancelled: send the child a cancel request (recorded)."""
        state = self.children[child_id]
        if not state.settled:
            state.settled = True
            self._issue(RequestCancelChild(child_id))

    def signal_external(self, workflow_id: str, name: str, payload: Any) -> None:
        payload = ensure_json(to_json(payload), f"payload of signal {name!r}")
        self._issue(SignalExternal(workflow_id, name, payload))

    def upsert_search_attributes(self, attributes: SearchAttributes) -> None:
        if self.schema is not None:
            try:
                self.schema.validate(attributes)
            except InvalidInput as exc:
                raise TypeError(exc.message) from None
        self._issue(UpsertSearchAttributes(attributes))

    def unresolved(self) -> tuple[int, int]:
        """(activities, children) still without an outcome."""
        activities = sum(1 for a in self.activities.values() if not a.settled)
        children = sum(1 for c in self.children.values() if not c.settled)
        return activities, children

    def _issue(self, command: Command) -> None:
        self._unmatched.append(command)

    def issue(self, command: Command) -> None:
        """Queue a command for recording (used by the update machinery)."""
        self._issue(command)

    # ---- running the code ---------------------------------------------------------------
    def _run(self) -> None:
        if self.finished or self.scheduler.idle:
            # Idle: no code can run, so every outcome below is as the last run left it
            # (most replayed events, a scheduled or started activity, wake nothing).
            return
        with running(self):
            self.scheduler.run_until_quiescent()
        failed_handler = next(
            (t for t in self._handlers if t.future.done() and self._failure_of(t.future)), None
        )
        if failed_handler is not None:
            self._finish(FailWorkflow(_error_of(failed_handler.future.exception())))
        elif self._root is not None and self._root.future.done():
            error = self._root.future.exception()
            if isinstance(error, ContinueAsNewRequest):
                self._finish(ContinueAsNew(error.input, error.workflow_type))
            elif isinstance(error, CancelledError) and self.cancel_requested is not None:
                self._finish(CancelWorkflow(self.cancel_requested))
            elif error is not None:
                self._finish(FailWorkflow(_error_of(error)))
            else:
                self._complete(self._root.future.result())

    def _failure_of(self, future: WorkflowFuture) -> BaseException | None:
        """A handler's error, unless it is the requested cancellation reaching it."""
        error = future.exception()
        if isinstance(error, CancelledError) and self.cancel_requested is not None:
            return None
        return error

    def _complete(self, result: Any) -> None:
        try:
            result = ensure_json(to_json(result), "workflow result")
        except TypeError as exc:
            self._finish(FailWorkflow(_error_of(exc)))
            return
        self._finish(CompleteWorkflow(result))

    def _finish(self, command: Terminal) -> None:
        self.finished = True
        if not self.cancelled:  # after a cancel the outcome is already recorded: Cancelled
            self.terminal = command
            self._issue(command)
        self.scheduler.close()

    # ---- applying history -----------------------------------------------------------------
    def _match(self, event: ev.Event, matches: Callable[[Command], bool]) -> None:
        if not self._unmatched:
            raise NonDeterminismError(
                f"history has {event.type} at seq {event.seq}, but the code issued no command"
            )
        head = self._unmatched[0]
        if not matches(head):
            raise NonDeterminismError(
                f"history has {event.type} at seq {event.seq}, but the code issued {describe(head)}"
            )
        self._unmatched.popleft()

    def match(self, event: ev.Event, matches: Callable[[Command], bool]) -> None:
        """Pop the next issued command, which must be the one ``event`` records."""
        self._match(event, matches)

    def _activity(self, event: ev.Event, activity_id: int) -> ActivityState:
        state = self.activities.get(activity_id)
        if state is None:
            raise NonDeterminismError(
                f"history has {event.type} at seq {event.seq} for activity #{activity_id},"
                " which the code never scheduled"
            )
        return state

    def _on_activity_scheduled(self, event: ev.ActivityScheduled) -> None:
        self._match(
            event,
            lambda c: (
                isinstance(c, ScheduleActivity)
                and c.activity_id == event.activity_id
                and c.activity_type == event.activity_type
            ),
        )

    def _on_activity_started(self, event: ev.ActivityStarted) -> None:
        self._activity(event, event.activity_id).attempt = event.attempt

    def _on_activity_completed(self, event: ev.ActivityCompleted) -> None:
        state = self._activity(event, event.activity_id)
        if not state.settled:
            state.settled = True
            state.future.set_result(event.result)

    def _on_activity_failed(self, event: ev.ActivityFailed) -> None:
        state = self._activity(event, event.activity_id)
        state.attempt = max(state.attempt, event.attempt)
        if event.error.kind == ActivityErrorKind.TERMINAL and not state.settled:
            state.settled = True
            state.future.set_exception(ActivityFailure(event.error))

    def _on_activity_cancelled(self, event: ev.ActivityCancelled) -> None:
        state = self._activity(event, event.activity_id)
        head = self._unmatched[0] if self._unmatched else None
        if isinstance(head, RequestCancelActivity) and head.activity_id == event.activity_id:
            self._unmatched.popleft()
        elif not state.settled:  # cancelled by the engine, not by the code
            state.settled = True
            state.future.set_exception(CancelledError(f"activity #{event.activity_id} cancelled"))

    def _on_timer_started(self, event: ev.TimerStarted) -> None:
        if event.timer_id.is_reserved:
            return  # engine-owned (run deadline): not the code's
        self._match(event, lambda c: isinstance(c, StartTimer) and c.timer_id == event.timer_id)
        state = self.timers[event.timer_id]
        state.recorded = True
        # The recorded fire time is authoritative (it is what the timer row holds).
        state.command = StartTimer(event.timer_id, event.fire_at)

    def _on_timer_fired(self, event: ev.TimerFired) -> None:
        if event.timer_id.is_reserved:
            return
        state = self.timers.get(event.timer_id)
        if state is None:
            raise NonDeterminismError(
                f"history has TimerFired at seq {event.seq} for {event.timer_id},"
                " which the code never started"
            )
        if not state.settled:
            state.settled = True
            state.future.set_result(None)

    def _on_timer_cancelled(self, event: ev.TimerCancelled) -> None:
        if event.timer_id.is_reserved:
            return
        if event.cause == ev.TimerCancelCause.WORKFLOW_INTENT:
            self._match(
                event, lambda c: isinstance(c, CancelTimer) and c.timer_id == event.timer_id
            )
        elif (state := self.timers.get(event.timer_id)) is not None:
            state.settled = True

    def _on_signal(self, event: ev.SignalReceived) -> None:
        attribute = self.definition.signals.get(event.name)
        if attribute is None:
            return  # recorded for the record; this workflow type has no such handler
        method = getattr(self.instance, attribute)
        takes_payload = len(inspect.signature(method).parameters) > 0
        with running(self):
            try:
                args = call_types(method, method=True).decode(
                    [event.payload] if takes_payload else [], f"payload of signal {event.name!r}"
                )
            except PayloadValidationError as exc:  # fails the run, as a raising handler does
                self._handlers.append(self.scheduler.spawn(_raising(exc), f"signal {event.name}"))
                return
            outcome = method(*args)
            if inspect.iscoroutine(outcome):
                self._handlers.append(self.scheduler.spawn(outcome, f"signal {event.name}"))

    def _on_terminal(self, event: ev.Event) -> None:
        kind = {
            "WorkflowCompleted": CompleteWorkflow,
            "WorkflowFailed": FailWorkflow,
            "WorkflowContinuedAsNew": ContinueAsNew,
        }[event.type]
        head = self._unmatched[0] if self._unmatched else None
        if isinstance(head, kind):
            self._unmatched.popleft()

    def _on_cancel_requested(self, event: ev.WorkflowCancelRequested) -> None:
        """A cancel was requested: its timers and activities were torn down in the same
        append; the code sees CancelledError where it waits, may compensate, and ends."""
        if self.cancel_requested is None:
            self.cancel_requested = event.reason or "cancelled"
            self._cancel_everything()

    def _on_cancelled(self, event: ev.WorkflowCancelled) -> None:
        """The run ended Cancelled: the code's own end (it let the cancellation out), or the
        engine's (terminate; histories from before cancel requests: the code may compensate)."""
        head = self._unmatched[0] if self._unmatched else None
        if isinstance(head, CancelWorkflow):
            self._unmatched.popleft()
            return
        self.cancelled = True
        self._cancel_everything()

    def _cancel_everything(self) -> None:
        for state in self.activities.values():
            state.settled = True
        for timer in self.timers.values():
            timer.settled = True
        for task in [self._root, *self._handlers, *self.update_tasks]:
            if task is not None and not task.future.done():
                task.future.cancel()

    def _on_child_started(self, event: ev.ChildWorkflowStarted) -> None:
        self._match(
            event,
            lambda c: (
                isinstance(c, StartChild)
                and c.child_workflow_id == event.child_workflow_id
                and c.workflow_type == event.workflow_type
            ),
        )
        child = self.children[event.child_workflow_id]
        child.recorded = True
        child.package_version = event.package_version

    def _child(self, event: ev.Event, child_id: str) -> ChildState:
        state = self.children.get(child_id)
        if state is None:
            raise NonDeterminismError(
                f"history has {event.type} at seq {event.seq} for child {child_id!r},"
                " which the code never started"
            )
        return state

    def _on_child_completed(self, event: ev.ChildWorkflowCompleted) -> None:
        state = self._child(event, event.child_workflow_id)
        if not state.settled:
            state.settled = True
            state.future.set_result(event.result)

    def _on_child_failed(self, event: ev.ChildWorkflowFailed) -> None:
        state = self._child(event, event.child_workflow_id)
        if not state.settled:
            state.settled = True
            failure = (
                WorkflowAlreadyStarted
                if event.error.type == WorkflowAlreadyStarted.ERROR_TYPE
                else ChildWorkflowFailure
            )
            state.future.set_exception(failure(event.child_workflow_id, event.error))

    def _on_child_cancelled(self, event: ev.ChildWorkflowCancelled) -> None:
        state = self._child(event, event.child_workflow_id)
        if not state.settled:
            state.settled = True
            state.future.set_exception(
                CancelledError(f"child workflow {event.child_workflow_id!r} cancelled")
            )

    def _on_child_cancel_requested(self, event: ev.ChildWorkflowCancelRequested) -> None:
        self._match(
            event,
            lambda c: (
                isinstance(c, RequestCancelChild) and c.child_workflow_id == event.child_workflow_id
            ),
        )

    def _on_signal_sent(self, event: ev.SignalSent) -> None:
        self._match(
            event,
            lambda c: (
                isinstance(c, SignalExternal)
                and c.target_workflow_id == event.target_workflow_id
                and c.name == event.name
            ),
        )

    def _on_patch(self, event: ev.PatchRecorded) -> None:
        self._match(event, lambda c: isinstance(c, RecordPatch) and c.change_id == event.change_id)

    def _on_attributes(self, event: ev.SearchAttributesUpdated) -> None:
        at_start = event.seq == self.started.seq + 1  # recorded with the start, by the engine
        if at_start or all(name.startswith("aion.") for name in event.attributes):
            return  # the engine's (start attributes, compensation mark), not the code's
        self._match(event, lambda c: isinstance(c, UpsertSearchAttributes))

    _appliers: ClassVar[dict[str, Callable[[WorkflowDriver, Any], None]]] = {
        "ActivityScheduled": _on_activity_scheduled,
        "ActivityStarted": _on_activity_started,
        "ActivityCompleted": _on_activity_completed,
        "ActivityFailed": _on_activity_failed,
        "ActivityCancelled": _on_activity_cancelled,
        "TimerStarted": _on_timer_started,
        "TimerFired": _on_timer_fired,
        "TimerCancelled": _on_timer_cancelled,
        "SignalReceived": _on_signal,
        "WorkflowCompleted": _on_terminal,
        "WorkflowFailed": _on_terminal,
        "WorkflowContinuedAsNew": _on_terminal,
        "WorkflowCancelled": _on_cancelled,
        "WorkflowCancelRequested": _on_cancel_requested,
        "ChildWorkflowStarted": _on_child_started,
        "ChildWorkflowCompleted": _on_child_completed,
        "ChildWorkflowFailed": _on_child_failed,
        "ChildWorkflowCancelled": _on_child_cancelled,
        "ChildWorkflowCancelRequested": _on_child_cancel_requested,
        "SignalSent": _on_signal_sent,
        "PatchRecorded": _on_patch,
        "SearchAttributesUpdated": _on_attributes,
        "UpdateAccepted": updates.on_update_accepted,
        "UpdateCompleted": updates.on_update_completed,
    }

    # ---- queries --------------------------------------------------------------------------
    def query(self, name: str, args: tuple[Any, ...]) -> Any:
        """Answer a query from live state; KeyError if the type has no such handler."""
        method = getattr(self.instance, self.definition.queries[name])
        decoded = call_types(method, method=True).decode(args, f"argument of query {name!r}")
        with running(self, read_only=True):
            result = method(*decoded)
        if inspect.iscoroutine(result):
            result.close()
            raise TypeError(f"query handler {name!r} must be a plain 'def', not 'async def'")
        return ensure_json(to_json(result), f"result of query {name!r}")


async def _raising(error: Exception) -> Any:
    """A workflow task that fails at once with ``error`` (so the run fails the usual way)."""
    raise error


def _error_of(exc: BaseException | None) -> WorkflowError:
    assert exc is not None
    return WorkflowError.from_exception(exc)
