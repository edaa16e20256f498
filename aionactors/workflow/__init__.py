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
    TimeoutError,
    execute_activity,
    gather,
    info,
    now,
    race,
    random,
    sleep,
    timeout,
    uuid4,
    wait_condition,
)
from aionactors.workflow.definition import WorkflowDefinition, defn, query, run, signal
from aionactors.workflow.driver import WorkflowInfo
from aionactors.workflow.errors import (
    ActivityFailure,
    CancelledError,
    ForeignAwaitError,
    NonDeterminismError,
    NotInWorkflowError,
)
from aionactors.workflow.retry import RetryPolicy

__all__ = [
    "ActivityFailure",
    "CancelledError",
    "ForeignAwaitError",
    "NonDeterminismError",
    "NotInWorkflowError",
    "RetryPolicy",
    "TimeoutError",
    "WorkflowDefinition",
    "WorkflowInfo",
    "defn",
    "execute_activity",
    "gather",
    "info",
    "now",
    "query",
    "race",
    "random",
    "run",
    "signal",
    "sleep",
    "timeout",
    "uuid4",
    "wait_condition",
]
