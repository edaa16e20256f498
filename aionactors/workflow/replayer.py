"""Replay a recorded run through its workflow code, outside any engine.

The engine rehydrates workflows this way; tests use it to prove that every
history they produced replays deterministically (a user can do the same
against production histories before deploying changed workflow code).
"""

from __future__ import annotations

from collections.abc import Sequence

from aionactors.core import events as ev
from aionactors.core.search import SearchAttributeSchema, namespace_of
from aionactors.core.visibility import attributes_of
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.driver import WorkflowDriver
from aionactors.workflow.reopen import effective_segment
from aionactors.workflow.with_start import with_start_signals


def replay(
    definition: WorkflowDefinition,
    segment: Sequence[ev.Event],
    schema: SearchAttributeSchema | None = None,
) -> WorkflowDriver:
    """Re-execute one run against its history; raises NonDeterminismError on a mismatch."""
    started = segment[0]
    if not isinstance(started, ev.WorkflowStarted):
        raise ValueError("a run segment starts with its WorkflowStarted")
    driver = WorkflowDriver(definition, started, namespace_of(attributes_of(segment)), schema)
    events = effective_segment(segment)[1:]
    first = with_start_signals(started, events)
    for signal in first:  # a signal-with-start's signal: its handler runs before the run method
        driver.apply(signal)
    driver.start()
    applied = {signal.seq for signal in first}
    for event in events:
        if event.seq not in applied:
            driver.apply(event)
    driver.replaying = False
    return driver
