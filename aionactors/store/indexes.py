"""Rows that follow a history, written in the same transaction as its events.

Recovery must not replay every parked workflow to learn what is due. Two
indexes let it start from rows instead:

- timer rows: a ``TimerStarted`` writes the row, ``TimerFired`` or
  ``TimerCancelled`` removes it, and a run's end removes all of its rows. Being
  in the append's transaction, no crash can leave a recorded timer without its
  row (the timer would never fire) or a row for a settled one.
- the wake index: workflows whose history ends where the engine owes them
  something a replay would do — an activity in flight, a child to watch, input
  the code has not reacted to, a start or reopen it has not run. A workflow
  only waiting on a timer or a signal is not in it: its next event rehydrates
  it. A run's end always leaves the index; a start or a reopen always enters
  it; in between, the writer of an append says (``AppendRequest.wake``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aionactors.core import events as ev
from aionactors.core.ids import TimerId
from aionactors.core.status import LEASE_RESET_TYPES, TERMINAL_EVENT_TYPES
from aionactors.store.contract import AppendRequest


@dataclass
class IndexChanges:
    """What one committed batch does to the timer rows and the wake index."""

    timers_cleared: set[str] = field(default_factory=set)
    """Workflows whose every timer row goes (a run ended), before ``timers`` apply."""
    timers: dict[tuple[str, TimerId], datetime | None] = field(default_factory=dict)
    """Each timer's row after the batch: its fire time, or None to delete it."""
    wake: dict[str, bool] = field(default_factory=dict)
    """Workflows entering (True) or leaving (False) the wake index."""

    def timer_rows(self) -> list[tuple[str, TimerId, datetime]]:
        return [(w, t, at) for (w, t), at in self.timers.items() if at is not None]

    def timer_deletes(self) -> list[tuple[str, TimerId]]:
        return [key for key, at in self.timers.items() if at is None]


def index_changes(committed: Iterable[AppendRequest]) -> IndexChanges:
    """Fold committed requests, in commit order, into row changes."""
    changes = IndexChanges()
    for request in committed:
        boundary: bool | None = None
        for event in request.events:
            if event.type in TERMINAL_EVENT_TYPES:
                boundary = False
                _clear_timers(changes, request.workflow_id)
            elif event.type in LEASE_RESET_TYPES:
                boundary = True
            elif isinstance(event, ev.TimerStarted):
                changes.timers[(request.workflow_id, event.timer_id)] = event.fire_at
            elif isinstance(event, ev.TimerFired | ev.TimerCancelled):
                changes.timers[(request.workflow_id, event.timer_id)] = None
        wake = _wake_after(boundary, request.wake)
        if wake is not None:
            changes.wake[request.workflow_id] = wake
    return changes


def wake_after(events: Iterable[ev.Event], declared: bool | None) -> bool | None:
    """The wake flag an append of ``events`` declaring ``declared`` leaves (None: as it was)."""
    boundary: bool | None = None
    for event in events:
        if event.type in TERMINAL_EVENT_TYPES:
            boundary = False
        elif event.type in LEASE_RESET_TYPES:
            boundary = True
    return _wake_after(boundary, declared)


def _clear_timers(changes: IndexChanges, workflow_id: str) -> None:
    changes.timers_cleared.add(workflow_id)
    for key in [key for key in changes.timers if key[0] == workflow_id]:
        del changes.timers[key]


def _wake_after(boundary: bool | None, declared: bool | None) -> bool | None:
    """An end clears; otherwise the writer's word counts; a start or reopen it did not
    speak for sets; anything else leaves the index as it was."""
    if boundary is False:
        return False
    if declared is not None:
        return declared
    return boundary
