"""``workflow.patched``: in-code versioning, with Temporal's semantics.

A run that reaches ``patched("id")`` live takes the new branch and records a
``PatchRecorded`` marker; a run replaying history that holds no such marker was made by
the old code, so it takes the old branch. Each id is decided once per run.
``deprecate_patch("id")`` keeps the marker for histories that have it (so the old
branch can be deleted) and records nothing for old histories replaying without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aionactors.core import events as ev

_COMMAND_EVENTS = frozenset({
    "ActivityScheduled", "ChildWorkflowStarted", "SignalSent", "PatchRecorded",
    "WorkflowCompleted", "WorkflowFailed", "WorkflowContinuedAsNew", "WorkflowCancelled",
    "UpdateCompleted", "ChildWorkflowCancelRequested",
})  # fmt: skip
"""Events that record a command of the code (timers and attributes are told apart below)."""


@dataclass
class PatchBook:
    """What one run's history says about its patches, and what the code decided."""

    recorded: frozenset[str] = frozenset()
    """Change ids whose marker the run's history holds."""
    fresh: bool = True
    """The code has recorded no command yet: the run is new, its code runs live."""
    decided: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, segment: Iterable[ev.Event]) -> PatchBook:
        events = list(segment)
        started_seq = events[0].seq if events else 0
        return cls(
            recorded=frozenset(e.change_id for e in events if isinstance(e, ev.PatchRecorded)),
            fresh=not any(_is_command(e, started_seq) for e in events[1:]),
        )

    def decide(self, change_id: str, replaying: bool) -> tuple[bool, bool]:
        """(take the new branch?, record the marker now?) for ``patched(change_id)``."""
        known = self.decided.get(change_id)
        if known is not None:
            return known, False
        live = self.fresh or not replaying
        new_branch = change_id in self.recorded or live
        self.decided[change_id] = new_branch
        return new_branch, new_branch


def _is_command(event: ev.Event, started_seq: int) -> bool:
    """Whether ``event`` records a command the code issued (not input it received)."""
    if isinstance(event, ev.SearchAttributesUpdated):
        at_start = event.seq == started_seq + 1
        return not (at_start or all(name.startswith("aion.") for name in event.attributes))
    if isinstance(event, ev.TimerStarted):
        return not event.timer_id.is_reserved
    return event.type in _COMMAND_EVENTS
