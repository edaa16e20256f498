"""What replay sees of a reopened run: the failure or cancellation it reopened is undone.

``WorkflowReopened`` names the activities whose terminal failure is to be
retried. Replay then treats those failures as non-final (the attempt trail goes
on), and skips the WorkflowFailed / WorkflowCancelled it reopened, the cancel
request and the cancel's teardown, so timers retired by the cancel are armed again and
activities it cancelled are dispatched again. Pure: history in, history out.
"""

from __future__ import annotations

from collections.abc import Sequence

from aionactors.core import events as ev
from aionactors.core.payload import ActivityErrorKind

_UNDONE = ("WorkflowFailed", "WorkflowCancelRequested", "WorkflowCancelled", "WorkflowTimedOut")


def effective_segment(segment: Sequence[ev.Event]) -> list[ev.Event]:
    """The run segment as replay should see it, given any WorkflowReopened in it."""
    reopen_at = [i for i, e in enumerate(segment) if isinstance(e, ev.WorkflowReopened)]
    if not reopen_at:
        return list(segment)
    result: list[ev.Event] = []
    start = 0
    for index in reopen_at:
        reopened = segment[index]
        assert isinstance(reopened, ev.WorkflowReopened)
        result.extend(_undo(segment[start:index], set(reopened.reopened)))
        start = index + 1
    result.extend(segment[start:])
    return result


def _undo(events: Sequence[ev.Event], retried: set[int]) -> list[ev.Event]:
    kept: list[ev.Event] = []
    tearing_down = False
    for event in events:
        if event.type in _UNDONE:
            tearing_down = event.type != "WorkflowFailed"
            continue
        if tearing_down and _is_teardown(event):
            continue
        if (
            isinstance(event, ev.ActivityFailed)
            and event.activity_id in retried
            and event.error.kind == ActivityErrorKind.TERMINAL
        ):
            retry = event.error.model_copy(update={"kind": ActivityErrorKind.RETRYABLE})
            event = event.model_copy(update={"error": retry})
        kept.append(event)
    return kept


def _is_teardown(event: ev.Event) -> bool:
    if isinstance(event, ev.TimerCancelled):
        return event.cause == ev.TimerCancelCause.CANCEL_TEARDOWN
    return isinstance(event, ev.ActivityCancelled | ev.ChildWorkflowCancelled)


def reopenable_activities(segment: Sequence[ev.Event]) -> list[int]:
    """Activities whose last outcome in the run is a terminal failure: reopen retries them."""
    last: dict[int, ev.Event] = {}
    for event in effective_segment(segment):
        if isinstance(event, ev.ActivityCompleted | ev.ActivityFailed | ev.ActivityCancelled):
            last[event.activity_id] = event
    return sorted(
        activity_id
        for activity_id, event in last.items()
        if isinstance(event, ev.ActivityFailed) and event.error.kind == ActivityErrorKind.TERMINAL
    )


def attempt_bases(segment: Sequence[ev.Event]) -> dict[int, int]:
    """For each reopened activity, the last attempt before its latest reopen.

    A reopen gives an activity a fresh retry budget while its attempt numbers go
    on: attempt ``base + n`` is the n-th attempt of the budget.
    """
    highest: dict[int, int] = {}
    bases: dict[int, int] = {}
    for event in segment:
        if isinstance(event, ev.ActivityStarted | ev.ActivityFailed | ev.ActivityCompleted):
            highest[event.activity_id] = max(highest.get(event.activity_id, 0), event.attempt)
        elif isinstance(event, ev.WorkflowReopened):
            for activity_id in event.reopened:
                bases[activity_id] = highest.get(activity_id, 0)
    return bases
