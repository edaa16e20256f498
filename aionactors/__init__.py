"""aionactors: durable workflows in plain Python, as actors replaying event-sourced histories."""

from aionactors.core import (
    AionError,
    Event,
    WorkflowFilter,
    WorkflowStatus,
    WorkflowSummary,
)
from aionactors.store import EventStore, open_store

__version__ = "0.1.0"

__all__ = [
    "AionError",
    "Event",
    "EventStore",
    "WorkflowFilter",
    "WorkflowStatus",
    "WorkflowSummary",
    "__version__",
    "open_store",
]
