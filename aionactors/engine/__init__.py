"""The engine: workflow actors under supervision, group-commit writer, timers, activities."""

from aionactors.core.errors import QueryFailed, UnknownQuery, UnknownUpdate, UpdateRejected
from aionactors.engine.broadcaster import Broadcaster, Lagged, Published, Subscription
from aionactors.engine.clock import Clock, ManualClock, SystemClock
from aionactors.engine.deployments import DeployOutcome, PackageInfo, RouteChange
from aionactors.engine.engine import Engine
from aionactors.engine.models import EngineSettings, WorkflowDescription, WorkflowHandle
from aionactors.engine.outcomes import (
    ResultTimeout,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowOutcomeError,
    WorkflowTimedOutError,
    outcome_of,
)
from aionactors.engine.updates import UpdateFailed, UpdateTimeout

__all__ = [
    "Broadcaster",
    "Clock",
    "DeployOutcome",
    "Engine",
    "EngineSettings",
    "Lagged",
    "ManualClock",
    "PackageInfo",
    "Published",
    "QueryFailed",
    "ResultTimeout",
    "RouteChange",
    "Subscription",
    "SystemClock",
    "UnknownQuery",
    "UnknownUpdate",
    "UpdateFailed",
    "UpdateRejected",
    "UpdateTimeout",
    "WorkflowCancelledError",
    "WorkflowDescription",
    "WorkflowFailedError",
    "WorkflowHandle",
    "WorkflowOutcomeError",
    "WorkflowTimedOutError",
    "outcome_of",
]
