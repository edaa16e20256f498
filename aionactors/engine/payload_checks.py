"""Typed payloads checked at the door: a start or signal that cannot fit is never recorded.

The engine knows the workflow type of every start and of every running
workflow, so it can hold a payload against the annotation of the method that
will receive it (the run method, the signal handler) before anything is
appended, and refuse it with InvalidInput naming the field.
"""

from __future__ import annotations

from typing import Any

from aionactors.core.errors import InvalidInput, WorkflowTypeNotFound
from aionactors.engine.registry import Registry
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.payloads import PayloadValidationError, call_types


def _check(definition: WorkflowDefinition, attribute: str, values: list[Any], what: str) -> None:
    method = getattr(definition.cls, attribute)
    try:
        call_types(method, method=True).decode(values, what)
    except PayloadValidationError as exc:
        raise InvalidInput(str(exc)) from None


def check_start_input(definition: WorkflowDefinition, arg: Any) -> None:
    """Refuse a start whose input does not fit the run method's annotation."""
    if definition.run_takes_arg:
        _check(definition, definition.run_name, [arg], f"input of workflow {definition.name!r}")


def check_signal_payload(registry: Registry, workflow_type: str, name: str, payload: Any) -> None:
    """Refuse a signal whose payload does not fit its handler (unknown names pass: they are
    recorded and ignored, as before)."""
    try:
        definition = registry.workflow(workflow_type)
    except WorkflowTypeNotFound:
        return  # not runnable here (yet): the driver checks it when the code runs
    attribute = definition.signals.get(name)
    if attribute is not None:
        _check(definition, attribute, [payload], f"payload of signal {name!r}")
