"""How a finished workflow's outcome reaches callers of ``Engine.result``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from aionactors.core import events as ev
from aionactors.core.errors import AionError
from aionactors.core.events import Event
from aionactors.core.status import FINAL_EVENT_TYPES


class WorkflowOutcomeError(AionError):
    """The workflow ended without a result."""

    code = "not_running"

    def __init__(self, workflow_id: str, message: str) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id


class WorkflowFailedError(WorkflowOutcomeError):
    error_type = "WorkflowFailed"

    def __init__(self, workflow_id: str, message: str, failure_type: str | None) -> None:
        super().__init__(workflow_id, f"workflow {workflow_id!r} failed: {message}")
        self.failure_message = message
        self.failure_type = failure_type


class WorkflowCancelledError(WorkflowOutcomeError):
    error_type = "WorkflowCancelled"


class WorkflowTimedOutError(WorkflowOutcomeError):
    error_type = "WorkflowTimedOut"


class ResultTimeout(AionError):
    code = "query_timeout"
    error_type = "ResultTimeout"


def outcome_of(event: Event) -> Any:
    """The result of a terminal event, or the typed error it stands for."""
    workflow_id = event.workflow_id
    match event:
        case ev.WorkflowCompleted(result=result):
            return result
        case ev.WorkflowFailed(error=error):
            raise WorkflowFailedError(workflow_id, error.message, error.type)
        case ev.WorkflowCancelled(reason=reason):
            raise WorkflowCancelledError(
                workflow_id, f"workflow {workflow_id!r} cancelled: {reason}"
            )
        case ev.WorkflowTimedOut(timeout=kind):
            raise WorkflowTimedOutError(workflow_id, f"workflow {workflow_id!r} timed out ({kind})")
    raise WorkflowOutcomeError(workflow_id, f"workflow {workflow_id!r} ended with {event.type}")


class TerminalWaiters:
    """Callers waiting for a workflow to end, woken by the writer's commit listener."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[threading.Event, list[Event]]]] = {}

    def register(self, workflow_id: str) -> tuple[threading.Event, list[Event]]:
        slot: tuple[threading.Event, list[Event]] = (threading.Event(), [])
        with self._lock:
            self._waiting.setdefault(workflow_id, []).append(slot)
        return slot

    def unregister(self, workflow_id: str, slot: tuple[threading.Event, list[Event]]) -> None:
        with self._lock:
            slots = self._waiting.get(workflow_id, [])
            if slot in slots:
                slots.remove(slot)
            if not slots:
                self._waiting.pop(workflow_id, None)

    def on_commit(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type not in FINAL_EVENT_TYPES:
                continue  # a continued run goes on in its successor, committed with it
            with self._lock:
                slots = self._waiting.pop(event.workflow_id, [])
            for flag, box in slots:
                box.append(event)
                flag.set()
