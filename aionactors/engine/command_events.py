"""Which events record each command a workflow issues (the "command events")."""

from __future__ import annotations

from aionactors.core import events as ev
from aionactors.core.ids import new_id
from aionactors.core.search import SearchAttributes
from aionactors.engine.recorder import EventSpec
from aionactors.workflow.commands import (
    CancelTimer,
    CancelWorkflow,
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RequestCancelActivity,
    RequestCancelChild,
    ScheduleActivity,
    SignalExternal,
    StartChild,
    StartTimer,
    UpsertSearchAttributes,
)
from aionactors.workflow.driver import WorkflowDriver


def events_for(
    command: Command, driver: WorkflowDriver, attributes: SearchAttributes
) -> list[EventSpec]:
    """The events that record ``command``; ``attributes`` carry over to a new run."""
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
            cause = ev.TimerCancelCause.WORKFLOW_INTENT
            return [(ev.TimerCancelled, {"timer_id": tid, "cause": cause})]
        case StartChild(child_workflow_id=child, workflow_type=kind, input=arg):
            return [
                (
                    ev.ChildWorkflowStarted,
                    {"child_workflow_id": child, "workflow_type": kind, "input": arg},
                )
            ]
        case RequestCancelChild(child_workflow_id=child):
            return [(ev.ChildWorkflowCancelRequested, {"child_workflow_id": child})]
        case SignalExternal(target_workflow_id=target, name=name, payload=payload):
            return [
                (ev.SignalSent, {"target_workflow_id": target, "name": name, "payload": payload})
            ]
        case UpsertSearchAttributes(attributes=upserted):
            return [(ev.SearchAttributesUpdated, {"attributes": upserted})]
        case ContinueAsNew(input=arg, workflow_type=override):
            run_id = driver.started.run_id
            return [
                (
                    ev.WorkflowContinuedAsNew,
                    {"input": arg, "workflow_type": override, "parent_run_id": run_id},
                ),
                (
                    ev.WorkflowStarted,
                    {
                        "workflow_type": override or driver.started.workflow_type,
                        "input": arg,
                        "run_id": new_id(),
                        "parent_run_id": run_id,
                        "parent_workflow_id": driver.started.parent_workflow_id,
                    },
                ),
                (ev.SearchAttributesUpdated, {"attributes": attributes}),
            ]
        case CompleteWorkflow(result=result):
            return [(ev.WorkflowCompleted, {"result": result})]
        case FailWorkflow(error=error):
            return [(ev.WorkflowFailed, {"error": error})]
        case CancelWorkflow(reason=reason):
            return [(ev.WorkflowCancelled, {"reason": reason})]
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover


def teardown_events(driver: WorkflowDriver) -> list[EventSpec]:
    """What a cancel or a timeout retires: live timers (re-armed by a reopen), activities."""
    specs: list[EventSpec] = []
    for timer_id, timer in driver.timers.items():
        if not timer.settled and timer.recorded:
            cause = ev.TimerCancelCause.CANCEL_TEARDOWN
            specs.append((ev.TimerCancelled, {"timer_id": timer_id, "cause": cause}))
    for activity_id, state in driver.activities.items():
        if not state.settled and state.attempt > 0:
            specs.append(
                (ev.ActivityCancelled, {"activity_id": activity_id, "attempt": state.attempt})
            )
    return specs
