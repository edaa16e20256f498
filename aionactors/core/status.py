"""Workflow status as a projection of history: it is never stored as mutable state.

The rule is "last lifecycle event wins": scan newest to oldest, the first
lifecycle event decides. An empty history is Running (an accepted start).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aionactors.core.events import Event, EventBase, WorkflowStarted


class WorkflowStatus(StrEnum):
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMED_OUT = "TimedOut"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    PAUSED = "Paused"

    @property
    def is_terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)


LIFECYCLE_STATUS: dict[str, WorkflowStatus] = {
    "WorkflowStarted": WorkflowStatus.RUNNING,
    "WorkflowReopened": WorkflowStatus.RUNNING,
    "WorkflowResumed": WorkflowStatus.RUNNING,
    "WorkflowPaused": WorkflowStatus.PAUSED,
    "WorkflowCompleted": WorkflowStatus.COMPLETED,
    "WorkflowFailed": WorkflowStatus.FAILED,
    "WorkflowCancelled": WorkflowStatus.CANCELLED,
    "WorkflowTimedOut": WorkflowStatus.TIMED_OUT,
    "WorkflowContinuedAsNew": WorkflowStatus.CONTINUED_AS_NEW,
}
"""Lifecycle event type → the status it sets. Every other event leaves status alone."""

TERMINAL_EVENT_TYPES = frozenset(t for t, status in LIFECYCLE_STATUS.items() if status.is_terminal)
"""Event types that end a run (continue-as-new included)."""

FINAL_EVENT_TYPES = TERMINAL_EVENT_TYPES - {"WorkflowContinuedAsNew"}
"""Event types that end the workflow itself: a continued run goes on in its successor."""

LEASE_RESET_TYPES = frozenset({"WorkflowStarted", "WorkflowReopened"})
"""Events that open a new lease: a terminal before them no longer closes the workflow."""


def status_from_events(events: Sequence[EventBase]) -> WorkflowStatus:
    """Project the status of a history (or any slice of one)."""
    for event in reversed(events):
        status = LIFECYCLE_STATUS.get(event.type)  # type: ignore[attr-defined]
        if status is not None:
            return status
    return WorkflowStatus.RUNNING


def current_lease_terminal(events: Sequence[EventBase]) -> EventBase | None:
    """The terminal event closing the current lease, if any.

    Newest to oldest; pause/resume are transparent; a reset point (Started,
    Reopened) before any terminal means the lease is open.
    """
    for event in reversed(events):
        kind = event.type  # type: ignore[attr-defined]
        if kind in LEASE_RESET_TYPES:
            return None
        status = LIFECYCLE_STATUS.get(kind)
        if status is not None and status.is_terminal:
            return event
    return None


def run_segment(events: Sequence[Event], run_id: str) -> list[Event]:
    """The slice of history belonging to one run: its WorkflowStarted up to the next one."""
    start: int | None = None
    for index, event in enumerate(events):
        if isinstance(event, WorkflowStarted):
            if start is not None:
                return list(events[start:index])
            if event.run_id == run_id:
                start = index
    return [] if start is None else list(events[start:])


def last_run_segment(events: Sequence[Event]) -> list[Event]:
    """The slice of the latest run (from its WorkflowStarted); empty if none started."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], WorkflowStarted):
            return list(events[index:])
    return []
