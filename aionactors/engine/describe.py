"""What a workflow is waiting on, read straight from its history (no replay, no actor)."""

from __future__ import annotations

from typing import Any

from aionactors.core import events as ev
from aionactors.core.status import current_lease_terminal, last_run_segment
from aionactors.workflow.reopen import effective_segment


def pending_work(history: list[ev.Event]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pending activities, pending timers) of the latest run, as the engine has them armed.

    A run that has ended waits on nothing (its deadline timer included). A reopened run is
    read as replay reads it: what the reopen re-armed or re-dispatched is pending again.
    """
    if current_lease_terminal(history) is not None:
        return [], []
    activities: dict[int, dict[str, Any]] = {}
    timers: dict[str, dict[str, Any]] = {}
    for event in effective_segment(last_run_segment(history)):
        match event:
            case ev.ActivityScheduled(activity_id=aid, activity_type=kind):
                activities[aid] = {"activity_id": aid, "activity_type": kind, "attempt": 0}
            case ev.ActivityStarted(activity_id=aid, attempt=attempt) if aid in activities:
                activities[aid]["attempt"] = attempt
            case ev.ActivityCompleted(activity_id=aid) | ev.ActivityCancelled(activity_id=aid):
                activities.pop(aid, None)
            case ev.ActivityFailed(activity_id=aid, error=error) if error.kind == "Terminal":
                activities.pop(aid, None)
            case ev.TimerStarted(timer_id=tid, fire_at=fire_at):
                timers[str(tid)] = {"timer_id": str(tid), "fire_at": fire_at}
            case ev.TimerFired(timer_id=tid) | ev.TimerCancelled(timer_id=tid):
                timers.pop(str(tid), None)
    return list(activities.values()), list(timers.values())
