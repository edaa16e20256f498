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
from aionactors.core.search import (  # search-attribute predicates and values
    BoolValue,
    Contains,
    DatetimeValue,
    Equals,
    FloatValue,
    GreaterThan,
    IntValue,
    KeywordListValue,
    LessThan,
    StringValue,
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
from aionactors.workflow import ActivityFailure, RetryPolicy

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022 - the search names kept in one block for an easy merge
    "BoolValue",
    "Contains",
    "DatetimeValue",
    "Equals",
    "FloatValue",
    "GreaterThan",
    "IntValue",
    "KeywordListValue",
    "LessThan",
    "StringValue",
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
