"""What the Engine facade hands back and takes: handles, descriptions, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aionactors.core.async_twin import AsyncTwin
from aionactors.core.runs import RunSummary
from aionactors.core.visibility import WorkflowSummary
from aionactors.packages import ExtractionLimits


@dataclass(frozen=True)
class WorkflowHandle:
    """A workflow to talk to: ``result()``, ``signal()``, ``query()``, ``update()``,
    ``cancel()``, ``describe()``, each with an ``*_async`` twin.

    From ``start_workflow`` (``run_id`` is the run it started; calls go to the latest run)
    or ``engine.get_handle(workflow_id, run_id=None)`` (a ``run_id`` pins the calls to
    that run: once it is no longer the latest, they raise NotRunning). ``result()``
    converts the recorded result to the run method's return annotation (a pydantic
    model, a dataclass...), or to ``result_type`` if given; ``engine.result`` stays JSON.
    """

    workflow_id: str
    run_id: str | None
    engine: Any = field(default=None, repr=False, compare=False)
    workflow_type: str | None = field(default=None, compare=False)
    result_type: Any = field(default=None, repr=False, compare=False)
    pinned: bool = field(default=False, repr=False, compare=False)
    started: bool = field(default=True, compare=False)
    """signal_with_start: whether this call started the run (False: it signalled one)."""

    def _engine(self) -> Any:
        if self.engine is None:
            raise RuntimeError("this handle has no engine: use engine.get_handle(workflow_id)")
        return self.engine

    def _bound(self) -> Any:
        """The engine, once a pinned run is checked to be the latest and running."""
        engine = self._engine()
        if self.pinned:
            engine.require_latest_run(self.workflow_id, self.run_id)
        return engine

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the end: the result (typed), or the error for how the workflow ended."""
        engine = self._engine()
        if self.pinned and not engine.is_latest_run(self.workflow_id, self.run_id):
            value = engine.past_run_result(self.workflow_id, self.run_id)
        else:
            value = engine.result(self.workflow_id, timeout=timeout)
        return engine.typed_result(self, value)

    def signal(self, name: str, payload: Any = None) -> None:
        self._bound().signal(self.workflow_id, name, payload)

    def query(self, name: str, *args: Any) -> Any:
        return self._bound().query(self.workflow_id, name, *args)

    def update(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        run_id = self.run_id if self.pinned else None
        return self._bound().update(self.workflow_id, name, *args, run_id=run_id, timeout=timeout)

    def cancel(self, reason: str | None = None, *, terminate: bool = False) -> None:
        self._bound().cancel(self.workflow_id, reason, terminate=terminate)

    def describe(self) -> WorkflowDescription:
        return self._engine().describe(self.workflow_id)

    result_async = AsyncTwin()
    signal_async = AsyncTwin()
    query_async = AsyncTwin()
    update_async = AsyncTwin()
    cancel_async = AsyncTwin()
    describe_async = AsyncTwin()


class WorkflowDescription(BaseModel):
    model_config = ConfigDict(frozen=True)
    summary: WorkflowSummary
    pending_activities: list[dict[str, Any]]
    pending_timers: list[dict[str, Any]]
    runs: list[RunSummary]
    resident: bool
    problem: str | None = None
    """Why a non-terminal run cannot run here (e.g. its pinned package version is missing)."""


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
    package_limits: ExtractionLimits = Field(default_factory=ExtractionLimits)
    """Ceilings for deployed package archives (size, inflated size, files, ratio)."""
    timer_horizon: float = Field(600.0, gt=0)
    """Seconds ahead the timer service arms stored timers (it looks again every half of
    it): a million workflows sleeping for a month cost no memory or start-up time until
    they are nearly due."""
    store_write_timeout: float = Field(10.0, gt=0, le=3600)
    """Seconds a write waits on a store that is transiently unavailable (a locked or busy
    SQLite file, a PostgreSQL lock wait) before it fails as ``unavailable`` (HTTP 503 with
    Retry-After) instead of waiting on: nothing is written then, and a retry may succeed.
    Applies to stores opened from a URL; a store instance carries its own."""
    drain_seconds: float = Field(30.0, ge=0)
    """How long :meth:`Engine.shutdown` lets running activity attempts finish and record
    their outcomes (as the reference system's drain); attempts still running after it are
    left to recovery, which runs them again (at-least-once)."""
