"""Error shapes recorded in history, and the package's public surface."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aionactors import core
from aionactors.core.payload import ActivityError, ActivityErrorKind, WorkflowError


def test_activity_error_kinds():
    assert [k.value for k in ActivityErrorKind] == ["Retryable", "Terminal"]


def test_activity_error_json_round_trip():
    error = ActivityError(
        kind=ActivityErrorKind.RETRYABLE, message="m", type="IOError", details={"a": [1]}
    )
    assert ActivityError.model_validate_json(error.model_dump_json()) == error
    assert error.model_dump(mode="json") == {
        "kind": "Retryable",
        "message": "m",
        "type": "IOError",
        "details": {"a": [1]},
    }


def test_activity_error_rejects_unknown_fields_and_kinds():
    with pytest.raises(ValidationError):
        ActivityError(kind="Terminal", message="m", retry=True)
    with pytest.raises(ValidationError):
        ActivityError(kind="Fatal", message="m")
    with pytest.raises(ValidationError):
        ActivityError(kind="Terminal")


def test_workflow_error_defaults():
    error = WorkflowError(message="m")
    assert error.type is None
    assert error.details is None
    with pytest.raises(ValidationError):
        WorkflowError(message="m", stack="...")


def test_workflow_error_from_exception():
    error = WorkflowError.from_exception(ValueError("bad value"), details={"field": "x"})
    assert error == WorkflowError(message="bad value", type="ValueError", details={"field": "x"})


def test_workflow_error_from_exception_without_message_uses_type_name():
    error = WorkflowError.from_exception(KeyboardInterrupt())
    assert error.message == "KeyboardInterrupt"
    assert error.type == "KeyboardInterrupt"


def test_workflow_error_from_activity_keeps_message_type_details():
    activity = ActivityError(kind="Terminal", message="nope", type="HTTPError", details=[404])
    assert WorkflowError.from_activity(activity) == WorkflowError(
        message="nope", type="HTTPError", details=[404]
    )


def test_errors_are_frozen():
    error = WorkflowError(message="m")
    with pytest.raises(ValidationError):
        error.message = "n"


def test_public_surface_is_importable():
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    assert len(set(core.__all__)) == len(core.__all__)
