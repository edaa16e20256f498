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

_ENGINE_ONLY = frozenset({"WorkflowPaused", "WorkflowResumed", "WorkflowReopened"})


@dataclass
class PatchBook:
    """What one run's history says about its patches, and what the code decided."""

    recorded: frozenset[str] = frozenset()
    """Change ids whose marker the run's history holds."""
    fresh: bool = True
    """The history holds nothing the code did or saw: the run is new, its code runs live."""
    decided: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, segment: Iterable[ev.Event]) -> PatchBook:
        events = list(segment)
        started_seq = events[0].seq if events else 0
        return cls(
            recorded=frozenset(e.change_id for e in events if isinstance(e, ev.PatchRecorded)),
            fresh=not any(_seen_by_code(e, started_seq) for e in events[1:]),
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


def _seen_by_code(event: ev.Event, started_seq: int) -> bool:
    """Whether the code issued or received ``event`` (not the engine's own bookkeeping)."""
    if event.type in _ENGINE_ONLY:
        return False
    if isinstance(event, ev.SearchAttributesUpdated):
        at_start = event.seq == started_seq + 1
        return not (at_start or all(name.startswith("aion.") for name in event.attributes))
    timer_id = getattr(event, "timer_id", None)
    return not (timer_id is not None and timer_id.is_reserved)
