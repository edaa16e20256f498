"""How an update's outcome reaches its caller: after its UpdateCompleted has committed.

The workflow actor answers the update's ask as soon as ``UpdateAccepted`` is
durable; the handler may then take a while (an ``async def`` handler awaiting
activities and timers). The caller waits here instead, on the writer's commit
listener: it registers before asking, so an outcome committed in the very same
append as the acceptance cannot be missed. A run that ends before the handler
finished wakes its waiters with the terminal event.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from aionactors.core import events as ev
from aionactors.core.errors import AionError, NotRunning
from aionactors.core.status import TERMINAL_EVENT_TYPES


class UpdateFailed(AionError):
    """The update was accepted and recorded, and its handler raised."""

    code = "update_failed"
    error_type = "UpdateFailed"

    def __init__(self, message: str, failure_type: str | None = None) -> None:
        super().__init__(message)
        self.failure_type = failure_type


class UpdateTimeout(AionError):
    """The update is accepted (durable) but its handler has not finished in time."""

    code = "query_timeout"
    error_type = "UpdateTimeout"


class _Slot:
    __slots__ = ("event", "flag")

    def __init__(self) -> None:
        self.flag = threading.Event()
        self.event: ev.Event | None = None


class UpdateWaiters:
    """Callers waiting for updates, woken by the commit listener (:meth:`on_commit`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, dict[str, _Slot]] = {}

    def register(self, workflow_id: str, update_id: str) -> _Slot:
        slot = _Slot()
        with self._lock:
            self._waiting.setdefault(workflow_id, {})[update_id] = slot
        return slot

    def unregister(self, workflow_id: str, update_id: str) -> None:
        with self._lock:
            slots = self._waiting.get(workflow_id, {})
            slots.pop(update_id, None)
            if not slots:
                self._waiting.pop(workflow_id, None)

    def on_commit(self, events: Sequence[ev.Event]) -> None:
        """Writer thread: settle the slots whose outcome (or whose run's end) just committed."""
        for event in events:
            if not isinstance(event, ev.UpdateCompleted) and event.type not in TERMINAL_EVENT_TYPES:
                continue
            with self._lock:
                slots = self._waiting.get(event.workflow_id)
                if not slots:
                    continue
                if isinstance(event, ev.UpdateCompleted):
                    chosen = [slots[event.update_id]] if event.update_id in slots else []
                else:
                    chosen = list(slots.values())
            for slot in chosen:
                if slot.event is None:
                    slot.event = event
                    slot.flag.set()

    @staticmethod
    def outcome(slot: _Slot, name: str, timeout: float | None) -> Any:
        """The handler's result; UpdateFailed, UpdateTimeout or NotRunning otherwise."""
        if not slot.flag.wait(timeout):
            raise UpdateTimeout(
                f"update {name!r} is accepted and recorded, but its handler did not finish"
                f" within {timeout} s"
            )
        event = slot.event
        if isinstance(event, ev.UpdateCompleted):
            if event.error is not None:
                raise UpdateFailed(
                    f"update {name!r} failed: {event.error.message}", event.error.type
                )
            return event.result
        assert event is not None
        raise NotRunning(
            f"workflow {event.workflow_id!r} ended ({event.type}) before update {name!r} finished"
        )
