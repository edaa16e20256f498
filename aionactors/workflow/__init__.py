"""Writing workflows: decorators for workflow classes and the calls workflow code makes.

    from aionactors import workflow

    @workflow.defn(name="greeter")
    class Greeter:
        @workflow.run
        async def run(self, name: str) -> str:
            await workflow.sleep(3600)
            return await workflow.execute_activity(greet, name)

Workflow code must be deterministic: use ``workflow.now()``, ``workflow.random()``
and ``workflow.uuid4()`` instead of the clock and entropy, and put all I/O in
activities. It runs under a deterministic driver, not an asyncio loop: awaiting
anything but these calls is an error.
"""

from aionactors.workflow.api import (
    ChildWorkflowHandle,
    TimeoutError,
    continue_as_new,
    deprecate_patch,
    execute_activity,
    execute_child_workflow,
    gather,
    info,
    now,
    patched,
    race,
    random,
    signal_external,
    sleep,
    start_child_workflow,
    timeout,
    upsert_search_attributes,
    uuid4,
    wait_condition,
)
from aionactors.workflow.commands import ParentClosePolicy
from aionactors.workflow.definition import WorkflowDefinition, defn, query, run, signal, update
from aionactors.workflow.errors import (
    ActivityFailure,
    CancelledError,
    ChildWorkflowFailure,
    ForeignAwaitError,
    NonDeterminismError,
    NotInWorkflowError,
    WorkflowAlreadyStarted,
)
from aionactors.workflow.retry import RetryPolicy
from aionactors.workflow.state import WorkflowInfo

__all__ = [
    "ActivityFailure",
    "CancelledError",
    "ChildWorkflowFailure",
    "ChildWorkflowHandle",
    "ForeignAwaitError",
    "NonDeterminismError",
    "NotInWorkflowError",
    "ParentClosePolicy",
    "RetryPolicy",
    "TimeoutError",
    "WorkflowAlreadyStarted",
    "WorkflowDefinition",
    "WorkflowInfo",
    "continue_as_new",
    "defn",
    "deprecate_patch",
    "execute_activity",
    "execute_child_workflow",
    "gather",
    "info",
    "now",
    "patched",
    "query",
    "race",
    "random",
    "run",
    "signal",
    "signal_external",
    "sleep",
    "start_child_workflow",
    "timeout",
    "update",
    "upsert_search_attributes",
    "uuid4",
    "wait_condition",
]
