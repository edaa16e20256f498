"""The server's view of the engine: ownership checks and the few reads the facade lacks.

Every blocking call runs in a worker thread (``asyncio.to_thread`` or the
engine's ``*_async`` twins), never on the event loop. Ownership is anti-leak:
a workflow of another namespace and a missing one both raise the same
``WorkflowNotFound``.
"""

from __future__ import annotations

import asyncio

from aionactors import Engine, WorkflowSummary
from aionactors.core import NotRunning, WorkflowNotFound
from aionactors.store import CommittedEvent
from transports.auth import Identity


class EngineAccess:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def summary(self, workflow_id: str) -> WorkflowSummary | None:
        """The visibility row (one indexed read, not a history replay)."""
        return await self.engine.summary_async(workflow_id)

    async def head_seq(self, workflow_id: str) -> int:
        return await self.engine.head_seq_async(workflow_id)

    async def history_positioned(self, workflow_id: str, from_seq: int) -> list[CommittedEvent]:
        """History from ``from_seq`` with each event's position in the commit order."""
        return await asyncio.to_thread(
            self.engine.store.read_history_positioned, workflow_id, from_seq
        )

    async def committed_in(
        self, namespace: str, after_position: int, limit: int, workflow_type: str | None
    ) -> list[CommittedEvent]:
        """A page of one namespace's committed events after a position, in commit order."""
        return await asyncio.to_thread(
            self.engine.store.read_committed_in, namespace, after_position, limit, workflow_type
        )

    async def head_position(self) -> int:
        return await asyncio.to_thread(self.engine.store.head_position)

    async def owned(self, identity: Identity, namespace: str, workflow_id: str) -> WorkflowSummary:
        """The workflow's summary if the caller may see it in ``namespace``.

        Ids are per namespace: the summary's ``workflow_id`` is the engine's key, which
        every later engine call of the request uses.
        """
        identity.require(namespace)
        summary = await asyncio.to_thread(self.engine.find_in, namespace, workflow_id)
        if summary is None or summary.namespace != namespace:
            raise WorkflowNotFound(workflow_id)
        return summary

    async def require_run(
        self, summary: WorkflowSummary, run_id: str | None, *, latest: bool
    ) -> None:
        """Check ``run_id`` names a run of the workflow (and, if ``latest``, its current one)."""
        if run_id is None or run_id == summary.run_id:
            return
        description = await self.engine.describe_async(summary.workflow_id)
        if run_id not in {run.run_id for run in description.runs}:
            raise WorkflowNotFound(summary.workflow_id)
        if latest:
            raise NotRunning(
                f"run {run_id!r} of workflow {summary.workflow_id!r} is not its latest run"
            )
