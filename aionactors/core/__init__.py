"""The domain model: ids, events, status projection, runs, visibility, errors.

Pure: no I/O, no threads. Every other layer speaks in these types.
"""

from aionactors.core.errors import (
    AionError,
    AlreadyExists,
    CorruptHistory,
    InvalidInput,
    InvalidState,
    NamespaceDenied,
    NotFound,
    NotRunning,
    QueryFailed,
    QueryTimeout,
    RunChainError,
    ScheduleNotFound,
    SequenceConflict,
    StoreError,
    Unavailable,
    UnknownQuery,
    WorkflowNotFound,
    WorkflowTypeNotFound,
)
from aionactors.core.events import (
    EVENT_ADAPTER,
    EVENT_TYPES,
    Event,
    EventBase,
    event_dict,
    event_from_dict,
    event_json,
    parse_event,
)
from aionactors.core.ids import TimerId, new_id
from aionactors.core.payload import ActivityError, ActivityErrorKind, Payload, WorkflowError
from aionactors.core.runs import RunSummary, run_chain_from_history
from aionactors.core.search import SearchAttributeSchema, SearchAttributeType, value_of
from aionactors.core.status import (
    TERMINAL_EVENT_TYPES,
    WorkflowStatus,
    current_lease_terminal,
    last_run_segment,
    run_segment,
    status_from_events,
)
from aionactors.core.timestamps import utc_now
from aionactors.core.visibility import (
    WorkflowFilter,
    WorkflowPage,
    WorkflowSummary,
    summary_from_history,
)

__all__ = [
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "TERMINAL_EVENT_TYPES",
    "ActivityError",
    "ActivityErrorKind",
    "AionError",
    "AlreadyExists",
    "CorruptHistory",
    "Event",
    "EventBase",
    "InvalidInput",
    "InvalidState",
    "NamespaceDenied",
    "NotFound",
    "NotRunning",
    "Payload",
    "QueryFailed",
    "QueryTimeout",
    "RunChainError",
    "RunSummary",
    "ScheduleNotFound",
    "SearchAttributeSchema",
    "SearchAttributeType",
    "SequenceConflict",
    "StoreError",
    "TimerId",
    "Unavailable",
    "UnknownQuery",
    "WorkflowError",
    "WorkflowFilter",
    "WorkflowNotFound",
    "WorkflowPage",
    "WorkflowStatus",
    "WorkflowSummary",
    "WorkflowTypeNotFound",
    "current_lease_terminal",
    "event_dict",
    "event_from_dict",
    "event_json",
    "last_run_segment",
    "new_id",
    "parse_event",
    "run_chain_from_history",
    "run_segment",
    "status_from_events",
    "summary_from_history",
    "utc_now",
    "value_of",
]
