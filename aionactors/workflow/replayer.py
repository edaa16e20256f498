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
from aionactors.workflow.patches import PatchBook
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
    driver = WorkflowDriver(definition, started, namespace_of(attributes_of(segment)), schema)
    driver.patches = PatchBook.of(segment)
    driver.start()
    for event in effective_segment(segment)[1:]:
        driver.apply(event)
    driver.replaying = False
    return driver
