"""The one writer of a schedule's history: numbers, stamps, appends, then folds.

Like the engine's recorder, it holds the head seq and never lets
``recorded_at`` go backwards; unlike it, every event it records is also
applied to the schedule's projection, so in-memory state is always the fold of
what is durable. A SequenceConflict means a second writer exists (a bug): it
propagates so that the schedule actor crashes and rebuilds from the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aionactors.core.events import Event, EventBase
from aionactors.schedule.seams import EventSink, TickTimer
from aionactors.schedule.state import ScheduleProjection, history_id


class ScheduleLog:
    def __init__(
        self,
        projection: ScheduleProjection,
        history: list[Event],
        sink: EventSink,
        timer: TickTimer,
    ) -> None:
        self.projection = projection
        self.history_id = history_id(projection.schedule_id)
        self.head = len(history)
        self._last_time: datetime | None = history[-1].recorded_at if history else None
        self._sink = sink
        self._timer = timer
        for event in history:
            projection.apply(event)

    @property
    def next_seq(self) -> int:
        return self.head + 1

    def record(self, cls: type[EventBase], **fields: Any) -> Event:
        """Append one event (durable when this returns) and fold it into the projection."""
        now = self._timer.now()
        if self._last_time is not None and now < self._last_time:
            now = self._last_time
        event: Event = cls(  # type: ignore[assignment]
            seq=self.head + 1,
            recorded_at=now,
            workflow_id=self.history_id,
            schedule_id=self.projection.schedule_id,
            **fields,
        )
        self._sink.append(self.history_id, [event], self.head)
        self.head += 1
        self._last_time = now
        self.projection.apply(event)
        return event
