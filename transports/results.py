"""``/workflows/result``: a workflow's outcome, waiting up to ``wait_ms`` for it on the event loop.

The wait does not park a thread in ``Engine.result``: it attaches to the live
broadcast first (so a terminal event committed meanwhile cannot be missed),
asks the engine for the outcome without blocking, and re-asks after each
terminal event of the workflow until the deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aionactors import (
    ResultTimeout,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowStatus,
    WorkflowSummary,
    WorkflowTimedOutError,
)
from aionactors.core import TERMINAL_EVENT_TYPES, current_lease_terminal, run_segment
from aionactors.engine import Lagged, Published, Subscription, WorkflowOutcomeError, outcome_of
from transports.state import ServerState

_STATUS_OF_ERROR: dict[type[Exception], WorkflowStatus] = {
    WorkflowFailedError: WorkflowStatus.FAILED,
    WorkflowCancelledError: WorkflowStatus.CANCELLED,
    WorkflowTimedOutError: WorkflowStatus.TIMED_OUT,
}


async def workflow_result(
    state: ServerState, summary: WorkflowSummary, run_id: str | None, wait_ms: int
) -> dict[str, Any]:
    """``{status, result?, error?}`` of the latest run (or of ``run_id``)."""
    workflow_id = summary.workflow_id
    if run_id is not None and run_id != summary.run_id:
        await state.access.require_run(summary, run_id, latest=False)
        return await _past_run(state, workflow_id, run_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_ms / 1000
    subscription = _watch(state, workflow_id) if wait_ms > 0 else None
    try:
        while True:
            outcome = await _outcome_now(state, workflow_id)
            if outcome is not None:
                return outcome
            remaining = deadline - loop.time()
            if subscription is None or remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    await subscription.get()
            except TimeoutError:
                break
            except Lagged:  # re-attach before the next check, so nothing slips between
                subscription.close()
                subscription = _watch(state, workflow_id)
    finally:
        if subscription is not None:
            subscription.close()
    latest = await state.access.summary(workflow_id)
    status = latest.status if latest is not None else summary.status
    return {"status": status.value}


def _watch(state: ServerState, workflow_id: str) -> Subscription:
    def terminal_of_this_workflow(published: Published) -> bool:
        event = published.event
        return event.workflow_id == workflow_id and event.type in TERMINAL_EVENT_TYPES

    return state.broadcaster.subscribe(
        asyncio.get_running_loop(),
        terminal_of_this_workflow,
        bound=16,
        workflow_id=workflow_id,
        kind="result_wait",
    )


async def _outcome_now(state: ServerState, workflow_id: str) -> dict[str, Any] | None:
    try:
        result = await state.engine.result_async(workflow_id, timeout=0)
    except ResultTimeout:
        return None
    except WorkflowOutcomeError as exc:
        status = _STATUS_OF_ERROR.get(type(exc))
        if status is None:
            latest = await state.access.summary(workflow_id)
            status = latest.status if latest is not None else WorkflowStatus.CONTINUED_AS_NEW
        return {"status": status.value, "error": exc.to_wire()}
    return {"status": WorkflowStatus.COMPLETED.value, "result": result}


async def _past_run(state: ServerState, workflow_id: str, run_id: str) -> dict[str, Any]:
    """An earlier run has ended (a later one exists): its outcome is in its history segment."""
    history = await state.engine.history_async(workflow_id)
    terminal = current_lease_terminal(run_segment(history, run_id))
    if terminal is None:
        return {"status": WorkflowStatus.RUNNING.value}
    try:
        result = outcome_of(terminal)
    except WorkflowOutcomeError as exc:
        status = _STATUS_OF_ERROR.get(type(exc), WorkflowStatus.CONTINUED_AS_NEW)
        return {"status": status.value, "error": exc.to_wire()}
    return {"status": WorkflowStatus.COMPLETED.value, "result": result}
