"""Exceptions workflow code sees, and the driver's own failures."""

from __future__ import annotations

from aionactors.core.payload import ActivityError


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


class NonDeterminismError(Exception):
    """Replayed code issued different commands than the history recorded."""

    PREFIX = "non-determinism violation"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.PREFIX}: {detail}")


class ForeignAwaitError(RuntimeError):
    """Workflow code awaited something the deterministic driver cannot run (asyncio, I/O)."""


class NotInWorkflowError(RuntimeError):
    """A workflow API was called outside workflow code (or from a query handler)."""
