"""Exceptions workflow code sees, and the driver's own failures."""

from __future__ import annotations

from typing import Any

from aionactors.core.payload import ActivityError, WorkflowError


class CancelledError(BaseException):
    """Raised inside workflow code at the await whose operation was cancelled.

    A BaseException (like asyncio's) so ``except Exception`` does not swallow it.
    """


class ActivityFailure(Exception):
    """An activity failed for good: retries exhausted, non-retryable, or timed out."""

    def __init__(self, error: ActivityError) -> None:
        super().__init__(error.message)
        self.error = error
        self.type = error.type
        self.message = error.message


class ChildWorkflowFailure(Exception):
    """A child workflow failed or timed out."""

    def __init__(self, workflow_id: str, error: WorkflowError) -> None:
        super().__init__(f"child workflow {workflow_id!r} failed: {error.message}")
        self.workflow_id = workflow_id
        self.error = error


class WorkflowAlreadyStarted(ChildWorkflowFailure):
    """A child could not start: another running workflow holds its id (as Temporal's).

    Raised where the parent awaits the child; a ChildWorkflowFailure, so code that
    handles a child's failure handles this too.
    """

    ERROR_TYPE = "WorkflowAlreadyStarted"


class ContinueAsNewRequest(BaseException):
    """Raised by ``workflow.continue_as_new`` to end the run; the driver records the successor."""

    def __init__(self, input: Any, workflow_type: str | None) -> None:
        super().__init__("continue as new")
        self.input = input
        self.workflow_type = workflow_type


class NonDeterminismError(Exception):
    """Replayed code issued different commands than the history recorded."""

    PREFIX = "non-determinism violation"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.PREFIX}: {detail}")


class ForeignAwaitError(RuntimeError):
    """Workflow code awaited something the deterministic driver cannot run (asyncio, I/O)."""


FOREIGN_AWAIT_ADVICE = (
    "use workflow.sleep for time, workflow.wait_condition to wait for state,"
    " workflow.gather/race/timeout to combine them, and activities for all I/O"
)


class NotInWorkflowError(RuntimeError):
    """A workflow API was called outside workflow code (or from a query handler)."""
