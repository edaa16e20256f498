"""Which events record each command a workflow issues (the "command events")."""

from __future__ import annotations

from collections.abc import Callable

from aionactors.core import events as ev
from aionactors.core.ids import new_id
from aionactors.core.search import PACKAGE_VERSION_ATTRIBUTE, SearchAttributes, StringValue
from aionactors.engine.recorder import EventSpec
from aionactors.workflow.commands import (
    CancelTimer,
    CancelWorkflow,
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordPatch,
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
    command: Command,
    driver: WorkflowDriver,
    attributes: SearchAttributes,
    version_for: Callable[[str], str | None] = lambda _type: None,
) -> list[EventSpec]:
    """The events that record ``command``; ``attributes`` carry over to a new run.

    ``version_for`` gives a type's current route: a child or a successor run is pinned
    to the version its type is routed to when it is recorded.
    """
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
                    {
                        "child_workflow_id": child,
                        "workflow_type": kind,
                        "input": arg,
                        "package_version": version_for(kind),
                    },
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
            successor_type = override or driver.started.workflow_type
            return [
                (
                    ev.WorkflowContinuedAsNew,
                    {"input": arg, "workflow_type": override, "parent_run_id": run_id},
                ),
                (
                    ev.WorkflowStarted,
                    {
                        "workflow_type": successor_type,
                        "input": arg,
                        "package_version": version_for(successor_type),
                        "run_id": new_id(),
                        "parent_run_id": run_id,
                        "parent_workflow_id": driver.started.parent_workflow_id,
                    },
                ),
                (
                    ev.SearchAttributesUpdated,
                    {"attributes": pinned_attributes(attributes, version_for(successor_type))},
                ),
            ]
        case RecordPatch(change_id=change_id, deprecated=deprecated):
            return [(ev.PatchRecorded, {"change_id": change_id, "deprecated": deprecated})]
        case CompleteWorkflow(result=result):
            return [(ev.WorkflowCompleted, {"result": result})]
        case FailWorkflow(error=error):
            return [(ev.WorkflowFailed, {"error": error})]
        case CompleteUpdate(update_id=update_id, result=result, error=error):
            outcome = {"update_id": update_id, "result": result, "error": error}
            return [(ev.UpdateCompleted, outcome)]
        case CancelWorkflow(reason=reason):
            return [(ev.WorkflowCancelled, {"reason": reason})]
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover


def pinned_attributes(attributes: SearchAttributes, version: str | None) -> SearchAttributes:
    """A successor run's attributes: its own pin replaces (or clears) its predecessor's."""
    if version is None and PACKAGE_VERSION_ATTRIBUTE not in attributes:
        return attributes
    return {**attributes, PACKAGE_VERSION_ATTRIBUTE: StringValue(data=version or "")}


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
