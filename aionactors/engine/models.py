"""What the Engine facade hands back and takes: handles, descriptions, settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aionactors.core.runs import RunSummary
from aionactors.core.visibility import WorkflowSummary


@dataclass(frozen=True)
class WorkflowHandle:
    workflow_id: str
    run_id: str


class WorkflowDescription(BaseModel):
    model_config = ConfigDict(frozen=True)
    summary: WorkflowSummary
    pending_activities: list[dict[str, Any]]
    pending_timers: list[dict[str, Any]]
    runs: list[RunSummary]
    resident: bool


class EngineSettings(BaseModel):
    """Tuning knobs; defaults suit one machine."""

    model_config = ConfigDict(extra="forbid")
    max_resident: int = 10_000
    idle_seconds: float = 60.0
    sweep_interval: float = 5.0
    activity_workers: int = Field(32, ge=1)
    actor_threads: int = Field(32, ge=1)
    """Threads running the workflow actors (pooled: many actors share them). A handler holds
    its thread while it waits for its commit, so this bounds the appends in flight."""
    query_timeout: float = 10.0
    max_restarts: int = 1_000_000
    """Crashes of workflow actors tolerated per ``restart_period`` before the workflow
    supervisor gives up on all of them: so high that it only stops a runaway engine (a
    crash-looping workflow is slowed by restart backoff, not allowed to take the rest down)."""
    restart_period: float = 10.0
    schedules: bool = True
    """Run the schedule evaluators (cron and interval schedules) in this engine."""
    drain_seconds: float = Field(30.0, ge=0)
    """How long :meth:`Engine.shutdown` lets running activity attempts finish and record
    their outcomes (as the reference system's drain); attempts still running after it are
    left to recovery, which runs them again (at-least-once)."""


class AsyncTwin:
    """``x_async`` runs ``x`` in a worker thread, so asyncio code never blocks on the engine."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._sync_name = name.removesuffix("_async")

    def __get__(self, engine: Any, owner: type) -> Callable[..., Any]:
        sync = getattr(engine, self._sync_name)

        async def twin(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(sync, *args, **kwargs)

        twin.__doc__ = f"Async twin of :meth:`Engine.{self._sync_name}`."
        return twin
