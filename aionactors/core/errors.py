"""Error types. Each carries the wire ``code`` of PROTOCOL.md and an ``error_type`` name.

Transports map ``code`` to an HTTP status; everything else reads the type.
"""

from __future__ import annotations

from typing import ClassVar


class AionError(Exception):
    """Base of every error this project raises on purpose."""

    code: ClassVar[str] = "backend"
    error_type: ClassVar[str | None] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self) -> dict[str, str]:
        """The error envelope: ``{code, message, error_type?}``."""
        body = {"code": self.code, "message": self.message}
        if self.error_type:
            body["error_type"] = self.error_type
        return body


class InvalidInput(AionError):
    code = "invalid_input"
    error_type = "ValidationError"


class NotFound(AionError):
    code = "not_found"


class WorkflowNotFound(NotFound):
    error_type = "WorkflowNotFound"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} not found")
        self.workflow_id = workflow_id


class WorkflowTypeNotFound(NotFound):
    error_type = "WorkflowTypeNotFound"

    def __init__(self, workflow_type: str) -> None:
        super().__init__(f"workflow type {workflow_type!r} is not registered")
        self.workflow_type = workflow_type


class ScheduleNotFound(NotFound):
    error_type = "ScheduleNotFound"

    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"schedule {schedule_id!r} not found")
        self.schedule_id = schedule_id


class InvalidState(AionError):
    code = "invalid_state"
    error_type = "InvalidState"


class AlreadyExists(AionError):
    code = "already_exists"
    error_type = "WorkflowAlreadyRunning"


class NotRunning(AionError):
    code = "not_running"
    error_type = "WorkflowTerminal"


class UnknownQuery(AionError):
    code = "unknown_query"
    error_type = "UnknownQuery"


class UnknownUpdate(InvalidInput):
    """The workflow type has no update handler of that name: nothing was recorded."""

    error_type = "UnknownUpdate"


class UpdateRejected(InvalidInput):
    """The update's validator refused it: nothing was recorded."""

    error_type = "UpdateRejected"


class QueryFailed(AionError):
    """The workflow's query handler raised."""

    code = "query_failed"
    error_type = "QueryFailed"


class QueryTimeout(AionError):
    code = "query_timeout"
    error_type = "QueryTimeout"


class NamespaceDenied(AionError):
    code = "namespace_denied"


class Unavailable(AionError):
    code = "unavailable"
    error_type = "ShuttingDown"


class StoreError(AionError):
    """The store could not do what was asked (I/O, corrupt rows, misuse)."""

    code = "backend"
    error_type = "StoreError"


class SequenceConflict(StoreError):
    """The stored head was not ``expected``: someone else wrote first, nothing was written."""

    code = "sequence_conflict"
    error_type = "SequenceConflict"

    def __init__(self, workflow_id: str, expected: int, found: int) -> None:
        super().__init__(f"workflow {workflow_id!r}: expected head seq {expected}, found {found}")
        self.workflow_id = workflow_id
        self.expected = expected
        self.found = found


class CorruptHistory(StoreError):
    """A stored row could not be read back as an event of the workflow it is filed under."""

    error_type = "CorruptHistory"


class RunChainError(StoreError):
    """A history's runs do not form one chain from a single root run."""

    error_type = "RunChainError"


# ---- versioned workflow packages ---------------------------------------------------------
class PackageInvalid(InvalidInput):
    """A package archive that cannot be accepted; the message names the cause."""

    error_type = "PackageInvalid"


class UnknownVersion(NotFound):
    """A package version (content hash) that is not loaded in this engine."""

    error_type = "UnknownVersion"


class RouteActive(InvalidState):
    """A version still routes a workflow type: route the type elsewhere first."""

    error_type = "RouteActive"


class VersionPinned(AionError):
    """A version still has non-terminal runs (or recorded, unstarted children) pinned to it."""

    code = "version_pinned"
    error_type = "VersionPinned"


class DeployDenied(AionError):
    """The caller has no deploy rights."""

    code = "deploy_denied"
    error_type = "DeployDenied"
