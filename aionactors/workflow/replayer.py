"""Replay a recorded run through its workflow code, outside any engine.

The engine rehydrates workflows this way; tests use it to prove that every
history they produced replays deterministically (a user can do the same
against production histories before deploying changed workflow code).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from aionactors.core import events as ev
from aionactors.core.runs import split_runs
from aionactors.core.search import SearchAttributeSchema, namespace_of
from aionactors.core.visibility import attributes_of
from aionactors.workflow.commands import CompleteWorkflow
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.driver import WorkflowDriver
from aionactors.workflow.errors import NonDeterminismError
from aionactors.workflow.patches import PatchBook
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
    driver.patches = PatchBook.of(segment)
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


class ReplayReport(BaseModel):
    """Whether one recorded run replays through the code under test."""

    model_config = ConfigDict(frozen=True)
    workflow_id: str
    run_id: str
    workflow_type: str
    outcome: Literal["ok", "nondeterministic", "skipped"]
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "nondeterministic"


def check_history(
    definitions: Mapping[str, WorkflowDefinition], history: Sequence[ev.Event]
) -> list[ReplayReport]:
    """Replay every run of one workflow's history through ``definitions`` (type -> code).

    A run fails when the code issues other commands than its history holds, or when a
    completed run replays to another result. A type missing from ``definitions`` is skipped.
    """
    reports: list[ReplayReport] = []
    for segment in split_runs(history):
        started = segment[0]
        assert isinstance(started, ev.WorkflowStarted)
        ids = {"workflow_id": started.workflow_id, "run_id": started.run_id,
               "workflow_type": started.workflow_type}  # fmt: skip
        definition = definitions.get(started.workflow_type)
        if definition is None:
            reports.append(ReplayReport(**ids, outcome="skipped", detail="type not in the code"))
            continue
        reports.append(ReplayReport(**ids, **_replay_outcome(definition, segment)))
    return reports


def _replay_outcome(definition: WorkflowDefinition, segment: list[ev.Event]) -> dict[str, str]:
    try:
        driver = replay(definition, segment)
    except NonDeterminismError as violation:
        return {"outcome": "nondeterministic", "detail": str(violation)}
    try:
        completed = next((e for e in segment if isinstance(e, ev.WorkflowCompleted)), None)
        if completed is not None and driver.terminal != CompleteWorkflow(completed.result):
            return {
                "outcome": "nondeterministic",
                "detail": f"the run completed with {completed.result!r} but replays to "
                f"{driver.terminal!r}",
            }
        return {"outcome": "ok"}
    finally:
        driver.close()


def load_history(data: str | bytes) -> list[ev.Event]:
    """Events exported with ``aionactors workflow history --json`` (or a JSON list of events)."""
    document = json.loads(data)
    events = document.get("events") if isinstance(document, dict) else document
    if not isinstance(events, list):
        raise ValueError("expected a JSON list of events or an object with 'events'")
    return [ev.event_from_dict(item) for item in events]
