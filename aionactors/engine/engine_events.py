"""Events the engine writes into a history itself, outside any workflow actor:
a run's start, the successor of a stranded continue-as-new, a reopen.

Each is appended at a head read just before, so a racing writer makes the
append fail with SequenceConflict and nothing is written twice. Pure builders:
the Engine does the appending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput, InvalidState
from aionactors.core.ids import new_id
from aionactors.core.search import (
    NAMESPACE_ATTRIBUTE,
    PACKAGE_VERSION_ATTRIBUTE,
    SearchAttributes,
    SearchAttributeSchema,
    StringValue,
    value_of,
)
from aionactors.core.status import last_run_segment
from aionactors.core.visibility import attributes_of
from aionactors.engine.command_events import pinned_attributes
from aionactors.engine.workflow_actor import deadline_timer
from aionactors.workflow.reopen import reopenable_activities
from aionactors.workflow.with_start import SIGNAL_WITH_START_ATTRIBUTE


def start_attributes(
    namespace: str,
    given: Mapping[str, Any],
    schema: SearchAttributeSchema | None,
    package_version: str | None = None,
) -> SearchAttributes:
    """Typed start attributes plus the owning namespace (and the pinned package version);
    the schema (if any) must allow them."""
    if not namespace:
        raise InvalidInput("namespace must not be empty")
    attributes: SearchAttributes = {}
    for name, raw in given.items():
        if name in (NAMESPACE_ATTRIBUTE, PACKAGE_VERSION_ATTRIBUTE):
            raise InvalidInput(f"search attribute {name!r} is set by the engine")
        attributes[name] = raw if isinstance(raw, BaseModel) else value_of(raw)  # type: ignore[assignment]
    if schema is not None:
        schema.validate(attributes)
    attributes[NAMESPACE_ATTRIBUTE] = StringValue(data=namespace)
    if package_version is not None:
        attributes[PACKAGE_VERSION_ATTRIBUTE] = StringValue(data=package_version)
    return attributes


def start_events(
    workflow_id: str,
    head: int,
    now: datetime,
    *,
    started: dict[str, Any],
    attributes: SearchAttributes,
    timeout: float | None,
    signal: tuple[str, Any] | None = None,
) -> list[ev.Event]:
    """WorkflowStarted, its attributes, the run's deadline timer and, for a signal-with-start,
    the signal (``(name, payload)``, delivered before the run's first line): one append."""
    envelope = {"recorded_at": now, "workflow_id": workflow_id}
    if signal is not None:
        mark = StringValue(data=started["run_id"])
        attributes = {**attributes, SIGNAL_WITH_START_ATTRIBUTE: mark}
    events: list[ev.Event] = [
        ev.WorkflowStarted(seq=head + 1, **envelope, **started),
        ev.SearchAttributesUpdated(seq=head + 2, **envelope, attributes=attributes),
    ]
    if timeout:
        events.append(
            ev.TimerStarted(
                seq=head + 3,
                **envelope,
                timer_id=deadline_timer(started["run_id"]),
                fire_at=now + timedelta(seconds=timeout),
            )
        )
    if signal is not None:
        name, payload = signal
        seq = head + len(events) + 1
        events.append(ev.SignalReceived(seq=seq, **envelope, name=name, payload=payload))
    return events


def successor_events(
    workflow_id: str,
    history: list[ev.Event],
    now: datetime,
    version_for: Callable[[str], str | None] = lambda _type: None,
) -> list[ev.Event]:
    """The start of the run a stranded WorkflowContinuedAsNew asked for (on its type's route)."""
    continued = history[-1]
    assert isinstance(continued, ev.WorkflowContinuedAsNew)
    previous = next(e for e in reversed(history) if isinstance(e, ev.WorkflowStarted))
    workflow_type = continued.workflow_type or previous.workflow_type
    version = version_for(workflow_type)
    attributes = pinned_attributes(attributes_of(history), version)
    started = {
        "workflow_type": workflow_type,
        "package_version": version,
        "input": continued.input,
        "run_id": new_id(),
        "parent_run_id": continued.parent_run_id,
        "parent_workflow_id": previous.parent_workflow_id,
    }
    return start_events(
        workflow_id, len(history), now, started=started, attributes=attributes, timeout=None
    )


def reopen_event(
    workflow_id: str, history: list[ev.Event], run_id: str, now: datetime
) -> ev.WorkflowReopened:
    """The marker that reopens the latest run, naming the activities to retry."""
    segment = last_run_segment(history)
    if _compensated(segment):
        raise InvalidState(
            f"workflow {workflow_id!r} ran compensation after its cancel; it cannot be reopened"
        )
    return ev.WorkflowReopened(
        seq=len(history) + 1,
        recorded_at=now,
        workflow_id=workflow_id,
        run_id=run_id,
        reopened=tuple(reopenable_activities(segment)),
    )


def _compensated(segment: list[ev.Event]) -> bool:
    """Did the code issue commands after its run was cancelled (compensation)?"""
    cancelled = False
    for event in segment:
        if isinstance(event, ev.WorkflowCancelRequested | ev.WorkflowCancelled):
            cancelled = True
        elif cancelled and isinstance(
            event, ev.ActivityScheduled | ev.TimerStarted | ev.ChildWorkflowStarted | ev.SignalSent
        ):
            return True
    return False
