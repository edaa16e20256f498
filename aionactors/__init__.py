"""aionactors: durable workflows in plain Python, as actors replaying event-sourced histories.

from aionactors import Engine, workflow, activity, RetryPolicy
"""

from aionactors import activity, packages, workflow
from aionactors.core import (
    AionError,
    DeployDenied,
    Event,
    InvalidInput,
    PackageInvalid,
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
from aionactors.core.workflow_keys import workflow_key
from aionactors.engine import (
    DeployOutcome,
    Engine,
    ManualClock,
    PackageInfo,
    QueryFailed,
    ResultTimeout,
    RouteChange,
    UnknownQuery,
    UnknownUpdate,
    UpdateFailed,
    UpdateRejected,
    UpdateTimeout,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowHandle,
    WorkflowTimedOutError,
)
from aionactors.store import EventStore, open_store
from aionactors.workflow import ActivityFailure, RetryPolicy, WorkflowAlreadyStarted

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
    "DeployDenied",
    "DeployOutcome",
    "Engine",
    "Event",
    "EventStore",
    "InvalidInput",
    "ManualClock",
    "PackageInfo",
    "PackageInvalid",
    "QueryFailed",
    "ResultTimeout",
    "RetryPolicy",
    "RouteChange",
    "UnknownQuery",
    "UnknownUpdate",
    "UpdateFailed",
    "UpdateRejected",
    "UpdateTimeout",
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
    "packages",
    "workflow",
    "workflow_key",
]
