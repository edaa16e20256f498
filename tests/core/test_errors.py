"""Error types: wire codes, error_type names and the envelope."""

from __future__ import annotations

import pytest

from aionactors import core
from aionactors.core.errors import (
    AionError,
    AlreadyExists,
    CorruptHistory,
    InvalidInput,
    InvalidState,
    NamespaceDenied,
    NotFound,
    NotRunning,
    RunChainError,
    ScheduleNotFound,
    SequenceConflict,
    StoreError,
    Unavailable,
    WorkflowNotFound,
    WorkflowTypeNotFound,
)

# Codes from the PROTOCOL.md error table.
PROTOCOL_CODES = {
    "invalid_input",
    "unknown_query",
    "namespace_denied",
    "deploy_denied",
    "not_found",
    "query_timeout",
    "sequence_conflict",
    "invalid_state",
    "version_pinned",
    "already_exists",
    "not_running",
    "lagged",
    "backend",
    "query_failed",
    "unavailable",
}


@pytest.mark.parametrize(
    ("error", "code", "error_type"),
    [
        (AionError("m"), "backend", None),
        (InvalidInput("m"), "invalid_input", "ValidationError"),
        (NotFound("m"), "not_found", None),
        (InvalidState("m"), "invalid_state", "InvalidState"),
        (AlreadyExists("m"), "already_exists", "WorkflowAlreadyRunning"),
        (NotRunning("m"), "not_running", "WorkflowTerminal"),
        (NamespaceDenied("m"), "namespace_denied", None),
        (Unavailable("m"), "unavailable", "ShuttingDown"),
        (StoreError("m"), "backend", "StoreError"),
        (CorruptHistory("m"), "backend", "CorruptHistory"),
        (RunChainError("m"), "backend", "RunChainError"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_plain_errors_envelope(error, code, error_type):
    wire = error.to_wire()
    expected = {"code": code, "message": "m"}
    if error_type is not None:
        expected["error_type"] = error_type
    assert wire == expected
    assert error.message == "m"
    assert str(error) == "m"
    assert code in PROTOCOL_CODES


def test_envelope_values_are_strings():
    for error in (InvalidInput("x"), SequenceConflict("w", 1, 2), WorkflowNotFound("w")):
        assert all(isinstance(v, str) for v in error.to_wire().values())
        assert set(error.to_wire()) <= {"code", "message", "error_type"}


def test_workflow_not_found():
    error = WorkflowNotFound("wf-1")
    assert error.workflow_id == "wf-1"
    assert error.to_wire() == {
        "code": "not_found",
        "message": "workflow 'wf-1' not found",
        "error_type": "WorkflowNotFound",
    }
    assert isinstance(error, NotFound)


def test_workflow_type_not_found():
    error = WorkflowTypeNotFound("order")
    assert error.workflow_type == "order"
    assert error.to_wire()["error_type"] == "WorkflowTypeNotFound"
    assert error.to_wire()["code"] == "not_found"
    assert "order" in error.message


def test_schedule_not_found():
    error = ScheduleNotFound("s-1")
    assert error.schedule_id == "s-1"
    assert error.to_wire()["error_type"] == "ScheduleNotFound"
    assert error.to_wire()["code"] == "not_found"


def test_sequence_conflict():
    error = SequenceConflict("wf-1", expected=4, found=7)
    assert error.code == "sequence_conflict"
    assert error.error_type == "SequenceConflict"
    assert error.workflow_id == "wf-1"
    assert error.expected == 4
    assert error.found == 7
    wire = error.to_wire()
    assert wire["code"] == "sequence_conflict"
    assert wire["error_type"] == "SequenceConflict"
    assert "4" in wire["message"] and "7" in wire["message"]
    assert isinstance(error, StoreError)


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (InvalidInput, AionError),
        (WorkflowNotFound, NotFound),
        (WorkflowTypeNotFound, NotFound),
        (ScheduleNotFound, NotFound),
        (SequenceConflict, StoreError),
        (CorruptHistory, StoreError),
        (RunChainError, StoreError),
        (StoreError, AionError),
        (AionError, Exception),
    ],
)
def test_hierarchy(cls, base):
    assert issubclass(cls, base)


def test_errors_can_be_raised_and_caught_as_aion_error():
    with pytest.raises(AionError) as info:
        raise SequenceConflict("w", 1, 2)
    assert info.value.code == "sequence_conflict"


def test_every_public_error_has_a_protocol_code():
    for name in core.__all__:
        obj = getattr(core, name)
        if isinstance(obj, type) and issubclass(obj, AionError):
            assert obj.code in PROTOCOL_CODES, name
