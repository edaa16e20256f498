"""aionactors: durable workflows in plain Python, as actors replaying event-sourced histories.

from aionactors import Engine, workflow, activity, RetryPolicy
"""

from aionactors import activity, workflow
from aionactors.core import (
    AionError,
    Event,
    WorkflowFilter,
    WorkflowStatus,
    WorkflowSummary,
)
from aionactors.engine import (
    Engine,
    ManualClock,
    QueryFailed,
    ResultTimeout,
    UnknownQuery,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowHandle,
    WorkflowTimedOutError,
)
from aionactors.store import EventStore, open_store
from aionactors.workflow import ActivityFailure, RetryPolicy, WorkflowAlreadyStarted

__version__ = "0.1.0"

__all__ = [
    "ActivityFailure",
    "AionError",
    "Engine",
    "Event",
    "EventStore",
    "ManualClock",
    "QueryFailed",
    "ResultTimeout",
    "RetryPolicy",
    "UnknownQuery",
    "WorkflowAlreadyStarted",
    "WorkflowCancelledError",
    "WorkflowFailedError",
    "WorkflowFilter",
    "WorkflowHandle",
    "WorkflowStatus",
    "WorkflowSummary",
    "WorkflowTimedOutError",
    "__version__",
    "activity",
    "open_store",
    "workflow",
]
