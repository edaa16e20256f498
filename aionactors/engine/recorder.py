"""A workflow's recorder: the only writer of its history, holding its head seq."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aionactors.core.events import Event, EventBase
from aionactors.core.status import LEASE_RESET_TYPES, TERMINAL_EVENT_TYPES
from aionactors.engine.clock import Clock
from aionactors.engine.writer import GroupCommitWriter
from aionactors.store.indexes import wake_after

EventSpec = tuple[type[EventBase], dict[str, Any]]
"""An event to record: its class and its fields (seq, time and workflow id are added)."""

WakeOf = Callable[[], bool | None]
"""Asked at each flush: must recovery boot this workflow after the append? (None: the
events decide; see ``aionactors.store.indexes``.)"""


class Recorder:
    """Numbers events, stamps them with the clock and appends them through the writer.

    ``recorded_at`` never goes backwards within a history, so ``workflow.now()``
    never does either. A SequenceConflict here means a second writer exists: a bug,
    raised so that the owning actor crashes and replays.
    """

    def __init__(
        self,
        workflow_id: str,
        head: int,
        last_time: datetime | None,
        writer: GroupCommitWriter,
        clock: Clock,
        wake_of: WakeOf = lambda: None,
        known_wake: bool | None = None,
    ) -> None:
        self.workflow_id = workflow_id
        self.head = head
        self._last_time = last_time
        self._writer = writer
        self._clock = clock
        self._staged: list[Event] = []
        self._wake_of = wake_of
        self._declared: bool | None = known_wake
        """The wake flag as this recorder knows it (None: unknown, e.g. after a boot), so an
        append that would not change it says nothing and costs no index write."""

    def stage(self, specs: list[EventSpec]) -> list[Event]:
        """Number and stamp events without writing them; :meth:`flush` writes them.

        Lets an outcome and the commands the code issues in reply go in one append. Nothing
        may be acted on before the flush: staged events are not durable.
        """
        if not specs:
            return []
        now = self._clock.now()
        if self._last_time is not None and now < self._last_time:
            now = self._last_time
        base = self.head + len(self._staged)
        events: list[Event] = [
            cls(seq=base + offset, recorded_at=now, workflow_id=self.workflow_id, **fields)  # type: ignore[misc]
            for offset, (cls, fields) in enumerate(specs, start=1)
        ]
        self._staged.extend(events)
        self._last_time = now
        return events

    def stage_built(self, events: list[Event]) -> None:
        """Stage events built elsewhere (a start), numbered from this recorder's head."""
        expected = self.head + len(self._staged) + 1
        if events and events[0].seq != expected:
            raise ValueError(f"staged events must start at seq {expected}, not {events[0].seq}")
        self._staged.extend(events)
        if events:
            self._last_time = max(self._last_time or events[-1].recorded_at, events[-1].recorded_at)

    @property
    def staged(self) -> int:
        """How many events wait for the next flush."""
        return len(self._staged)

    def keep_staged(self, count: int) -> None:
        """Drop every staged event after the first ``count`` (a step that faulted half-way
        keeps only its input)."""
        del self._staged[count:]

    def flush(self, wake: bool | None = None) -> None:
        """Append everything staged, in one all-or-nothing append.

        ``wake`` overrides what ``wake_of`` would say (True: input the code has not seen).
        """
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        if wake is None:
            wake = self._wake_of()
        declared = wake if wake != self._declared else None
        if any(e.type in _BOUNDARY_TYPES for e in staged):
            declared = wake  # the events set the flag too: say it, and know what it became
            wake = wake_after(staged, declared)
        self._writer.append(self.workflow_id, staged, self.head, declared)
        self.head += len(staged)
        self._declared = wake

    def settle_wake(self) -> None:
        """Clear a wake flag known to be set that the workflow no longer needs (it parked
        on a timer or a signal without a new command to append the news with)."""
        if self._declared is True and not self._staged and self._wake_of() is False:
            self._writer.append(self.workflow_id, [], self.head, False)
            self._declared = False

    def record(self, specs: list[EventSpec]) -> list[Event]:
        """Stage and flush: durable when this returns."""
        events = self.stage(specs)
        self.flush()
        return events

    def record_one(self, cls: type[EventBase], **fields: Any) -> Event:
        return self.record([(cls, fields)])[0]


_BOUNDARY_TYPES = TERMINAL_EVENT_TYPES | LEASE_RESET_TYPES
"""Events that set the wake flag themselves (an end clears it, a start or reopen sets it)."""
