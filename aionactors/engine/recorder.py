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

    def record(self, specs: list[EventSpec]) -> list[Event]:
        if not specs:
            return []
        now = self._clock.now()
        if self._last_time is not None and now < self._last_time:
            now = self._last_time
        events: list[Event] = [
            cls(seq=self.head + offset, recorded_at=now, workflow_id=self.workflow_id, **fields)  # type: ignore[misc]
            for offset, (cls, fields) in enumerate(specs, start=1)
        ]
        self._writer.append(self.workflow_id, events, self.head)
        self.head += len(events)
        self._last_time = now
        return events

    def record_one(self, cls: type[EventBase], **fields: Any) -> Event:
        return self.record([(cls, fields)])[0]
