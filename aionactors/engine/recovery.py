"""Startup repair sweeps: windows between two writes that a crash may have left open.

Our own engine records a continue-as-new and its successor's start in one
append, so it never strands a chain; histories written otherwise (an older
engine, an import, a crash in a writer that split them) may. The sweep starts
the successor; if that fails it re-reads, because a racing start that won makes
the failure benign, and only a failure with no successor is an error.
"""

from __future__ import annotations

from collections.abc import Callable

from aionactors.core import events as ev
from aionactors.core.errors import WorkflowNotFound
from aionactors.core.status import WorkflowStatus, status_from_events
from aionactors.core.visibility import WorkflowFilter
from aionactors.store.contract import EventStore


class StrandedContinueAsNew(WorkflowNotFound):
    """A continued-as-new run has no successor and the sweep could not start one."""

    error_type = "StrandedContinueAsNew"

    def __init__(self, workflow_id: str, cause: BaseException) -> None:
        super().__init__(workflow_id)
        self.message = (
            f"workflow {workflow_id!r} continued as new but its successor run could not be"
            f" started: {cause}"
        )
        self.args = (self.message,)


StartSuccessor = Callable[[str, list[ev.Event]], None]


def sweep_continued_as_new(store: EventStore, start_successor: StartSuccessor) -> list[str]:
    """Start the successor of every stranded chain; returns the workflow ids repaired."""
    repaired: list[str] = []
    for summary in store.scan(WorkflowFilter(status=WorkflowStatus.CONTINUED_AS_NEW)):
        history = store.read_history(summary.workflow_id)
        if status_from_events(history) != WorkflowStatus.CONTINUED_AS_NEW:
            continue  # the successor is there after all
        try:
            start_successor(summary.workflow_id, history)
        except Exception as exc:
            again = store.read_history(summary.workflow_id)
            if status_from_events(again) == WorkflowStatus.CONTINUED_AS_NEW:
                raise StrandedContinueAsNew(summary.workflow_id, exc) from exc
            continue  # someone else started it first: the race is benign
        repaired.append(summary.workflow_id)
    return repaired
