"""Runs of one workflow and the continue-as-new chain that links them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from aionactors.core.errors import RunChainError
from aionactors.core.events import Event, WorkflowStarted
from aionactors.core.status import WorkflowStatus, current_lease_terminal, status_from_events
from aionactors.core.timestamps import UtcDatetime


class RunSummary(BaseModel):
    """One concrete run in a workflow's continuation chain."""

    model_config = ConfigDict(frozen=True)
    run_id: str
    parent_run_id: str | None
    status: WorkflowStatus
    started_at: UtcDatetime
    closed_at: UtcDatetime | None = None


def split_runs(events: Sequence[Event]) -> list[list[Event]]:
    """Cut a history at each WorkflowStarted; events before the first are dropped."""
    runs: list[list[Event]] = []
    for event in sorted(events, key=lambda e: e.seq):
        if isinstance(event, WorkflowStarted):
            runs.append([event])
        elif runs:
            runs[-1].append(event)
    return runs


def run_chain_from_history(events: Sequence[Event]) -> list[RunSummary]:
    """The runs of a history in continuation order (root first).

    Raises RunChainError unless the parent links form exactly one chain.
    """
    summaries: dict[str, RunSummary] = {}
    for segment in split_runs(events):
        started = segment[0]
        assert isinstance(started, WorkflowStarted)
        terminal = current_lease_terminal(segment)
        closed_at: datetime | None = terminal.recorded_at if terminal is not None else None
        summaries[started.run_id] = RunSummary(
            run_id=started.run_id,
            parent_run_id=started.parent_run_id,
            status=status_from_events(segment),
            started_at=started.recorded_at,
            closed_at=closed_at,
        )
    if not summaries:
        return []
    roots = [s for s in summaries.values() if s.parent_run_id is None]
    if len(roots) != 1:
        raise RunChainError(f"run chain needs exactly one root run, found {len(roots)}")
    children = {s.parent_run_id: s for s in summaries.values() if s.parent_run_id is not None}
    chain = [roots[0]]
    while chain[-1].run_id in children:
        chain.append(children[chain[-1].run_id])
    if len(chain) != len(summaries):
        raise RunChainError(
            f"run chain links {len(chain)} of {len(summaries)} runs; some runs are orphaned"
        )
    return chain
