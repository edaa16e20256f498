"""How an update's outcome reaches its caller: after its UpdateCompleted has committed.

The workflow actor answers the update's ask as soon as ``UpdateAccepted`` is
durable; the handler may then take a while (an ``async def`` handler awaiting
activities and timers). The caller waits here instead, on the writer's commit
listener: it registers before asking, so an outcome committed in the very same
append as the acceptance cannot be missed. A run that ends before the handler
finished wakes its waiters with the terminal event.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
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
    __slots__ = ("_lock", "callbacks", "event", "flag")

    def __init__(self) -> None:
        self.flag = threading.Event()
        self.event: ev.Event | None = None
        self.callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def settle(self, event: ev.Event) -> None:
        with self._lock:
            if self.event is not None:
                return
            self.event = event
            self.flag.set()
            callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()

    def on_settled(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if self.event is None:
                self.callbacks.append(callback)
                return
        callback()


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
                slot.settle(event)


class PendingUpdate:
    """An accepted update whose outcome is awaited; close it once done with it."""

    def __init__(self, waiters: UpdateWaiters, workflow_id: str, update_id: str, name: str) -> None:
        self.workflow_id = workflow_id
        self.update_id = update_id
        self.name = name
        self._waiters = waiters
        self._slot = waiters.register(workflow_id, update_id)

    def wait(self, timeout: float | None) -> Any:
        """Block for the outcome (see :meth:`outcome`)."""
        if not self._slot.flag.wait(timeout):
            raise self._timeout(timeout)
        return self.outcome()

    async def wait_async(self, timeout: float | None) -> Any:
        """Await the outcome on the event loop, holding no thread while the handler runs."""
        loop = asyncio.get_running_loop()
        settled = loop.create_future()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
                loop.call_soon_threadsafe(lambda: settled.done() or settled.set_result(None))

        self._slot.on_settled(wake)
        try:
            async with asyncio.timeout(timeout):
                await settled
        except TimeoutError:
            raise self._timeout(timeout) from None
        return self.outcome()

    def close(self) -> None:
        self._waiters.unregister(self.workflow_id, self.update_id)

    def _timeout(self, timeout: float | None) -> UpdateTimeout:
        return UpdateTimeout(
            f"update {self.name!r} ({self.update_id}) is accepted and recorded, but its handler"
            f" did not finish within {timeout} s"
        )

    def outcome(self) -> Any:
        """The handler's result; UpdateFailed or NotRunning (the run ended first) otherwise."""
        name = self.name
        event = self._slot.event
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
