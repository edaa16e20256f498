"""A workflow's recorder: the only writer of its history, holding its head seq."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aionactors.core.events import Event, EventBase
from aionactors.engine.clock import Clock
from aionactors.engine.writer import GroupCommitWriter

EventSpec = tuple[type[EventBase], dict[str, Any]]
"""An event to record: its class and its fields (seq, time and workflow id are added)."""


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
    ) -> None:
        self.workflow_id = workflow_id
        self.head = head
        self._last_time = last_time
        self._writer = writer
        self._clock = clock
        self._staged: list[Event] = []

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

    def flush(self) -> None:
        """Append everything staged, in one all-or-nothing append."""
        if not self._staged:
            return
        staged, self._staged = self._staged, []
        self._writer.append(self.workflow_id, staged, self.head)
        self.head += len(staged)

    def record(self, specs: list[EventSpec]) -> list[Event]:
        """Stage and flush: durable when this returns."""
        events = self.stage(specs)
        self.flush()
        return events

    def record_one(self, cls: type[EventBase], **fields: Any) -> Event:
        return self.record([(cls, fields)])[0]
