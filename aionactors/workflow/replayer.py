"""Replay a recorded run through its workflow code, outside any engine.

The engine rehydrates workflows this way; tests use it to prove that every
history they produced replays deterministically (a user can do the same
against production histories before deploying changed workflow code).
"""

from __future__ import annotations

from collections.abc import Sequence

from aionactors.core import events as ev
from aionactors.core.search import (
    DEFAULT_NAMESPACE,
    NAMESPACE_ATTRIBUTE,
    SearchAttributeSchema,
    StringValue,
)
from aionactors.core.status import last_run_segment
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.driver import WorkflowDriver
from aionactors.workflow.reopen import effective_segment


def replay(
    definition: WorkflowDefinition,
    segment: Sequence[ev.Event],
    schema: SearchAttributeSchema | None = None,
) -> WorkflowDriver:
    """Re-execute one run against its history; raises NonDeterminismError on a mismatch."""
    started = segment[0]
    if not isinstance(started, ev.WorkflowStarted):
        raise ValueError("a run segment starts with its WorkflowStarted")
    driver = WorkflowDriver(definition, started, namespace_of(segment), schema)
    driver.start()
    for event in effective_segment(segment)[1:]:
        driver.apply(event)
    driver.replaying = False
    return driver


def replay_latest_run(
    definition: WorkflowDefinition, history: Sequence[ev.Event]
) -> WorkflowDriver:
    """Replay the latest run of a whole history."""
    return replay(definition, last_run_segment(list(history)))


def namespace_of(segment: Sequence[ev.Event]) -> str:
    namespace = DEFAULT_NAMESPACE
    for event in segment:
        if isinstance(event, ev.SearchAttributesUpdated):
            value = event.attributes.get(NAMESPACE_ATTRIBUTE)
            if isinstance(value, StringValue):
                namespace = value.data
    return namespace
