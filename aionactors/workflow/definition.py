"""Workflow classes: `@workflow.defn` with `run`, `signal`, `query` and `update` methods.

The decorators only attach metadata; ``workflow_definition(cls)`` collects it
into a :class:`WorkflowDefinition` that the engine registers by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

_C = TypeVar("_C", bound=type)
_F = TypeVar("_F", bound=Callable[..., Any])
_G = TypeVar("_G", bound=Callable[..., Any])

_DEFN_ATTR = "__aionactors_workflow__"
_ROLE_ATTR = "__aionactors_role__"
_VALIDATOR_ATTR = "__aionactors_validator__"


@dataclass(frozen=True)
class WorkflowDefinition:
    """A registered workflow type: its class, run method and named handlers."""

    name: str
    cls: type
    run_name: str
    run_takes_arg: bool
    signals: dict[str, str] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None
    updates: dict[str, str] = field(default_factory=dict)
    update_validators: dict[str, Callable[..., Any]] = field(default_factory=dict)
    """Update name -> its ``@<handler>.validator`` function (called with the instance)."""


@overload
def defn(cls: _C) -> _C: ...
@overload
def defn(*, name: str | None = None, timeout: float | None = None) -> Callable[[_C], _C]: ...
def defn(
    cls: _C | None = None, *, name: str | None = None, timeout: float | None = None
) -> _C | Callable[[_C], _C]:
    """Mark a class as a workflow type. ``name`` defaults to the class name;
    ``timeout`` (seconds) bounds each run: past it the run is TimedOut."""

    def decorate(target: _C) -> _C:
        setattr(target, _DEFN_ATTR, _build(target, name or target.__name__, timeout))
        return target

    return decorate(cls) if cls is not None else decorate


def run(fn: _F) -> _F:
    """Mark the coroutine method that is the workflow's body: ``async def run(self, arg)``."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"@workflow.run needs an 'async def' method, got {fn.__qualname__}")
    setattr(fn, _ROLE_ATTR, ("run", fn.__name__))
    return fn


def _handler(role: str, fn: _F | None, name: str | None) -> _F | Callable[[_F], _F]:
    def decorate(target: _F) -> _F:
        setattr(target, _ROLE_ATTR, (role, name or target.__name__))
        return target

    return decorate(fn) if fn is not None else decorate


@overload
def signal(fn: _F) -> _F: ...
@overload
def signal(*, name: str | None = None) -> Callable[[_F], _F]: ...
def signal(fn: _F | None = None, *, name: str | None = None) -> _F | Callable[[_F], _F]:
    """Mark a method that receives a signal's payload: ``def approve(self, payload)``."""
    return _handler("signal", fn, name)


@overload
def query(fn: _F) -> _F: ...
@overload
def query(*, name: str | None = None) -> Callable[[_F], _F]: ...
def query(fn: _F | None = None, *, name: str | None = None) -> _F | Callable[[_F], _F]:
    """Mark a read-only method answering a query from live state: ``def state(self)``."""
    return _handler("query", fn, name)


@overload
def update(fn: _F) -> _F: ...
@overload
def update(*, name: str | None = None) -> Callable[[_F], _F]: ...
def update(fn: _F | None = None, *, name: str | None = None) -> _F | Callable[[_F], _F]:
    """Mark a method that changes state and answers the caller: ``def add(self, item) -> int``.

    It may be ``async`` and await activities and timers. ``@add.validator`` marks an
    optional ``def validate_add(self, item) -> None`` that runs first, read-only, and
    rejects the update by raising: a rejected update is never recorded.
    """

    def decorate(target: _F) -> _F:
        def validator(check: _G) -> _G:
            setattr(target, _VALIDATOR_ATTR, check)
            return check

        target.validator = validator  # type: ignore[attr-defined]
        return _handler("update", target, name)  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def _build(cls: type, name: str, timeout: float | None) -> WorkflowDefinition:
    run_names: list[str] = []
    signals: dict[str, str] = {}
    queries: dict[str, str] = {}
    updates: dict[str, str] = {}
    validators: dict[str, Callable[..., Any]] = {}
    for attribute, member in inspect.getmembers(cls, callable):
        role = getattr(member, _ROLE_ATTR, None)
        if role is None:
            continue
        kind, public = role
        if kind == "run":
            run_names.append(attribute)
        elif kind == "signal":
            signals[public] = attribute
        elif kind == "update":
            updates[public] = attribute
            check = getattr(member, _VALIDATOR_ATTR, None)
            if check is not None:
                validators[public] = check
        else:
            queries[public] = attribute
    if len(run_names) != 1:
        raise TypeError(f"workflow {cls.__qualname__} needs exactly one @workflow.run method")
    parameters = list(inspect.signature(getattr(cls, run_names[0])).parameters.values())[1:]
    if len(parameters) > 1:
        raise TypeError(f"{cls.__qualname__}.{run_names[0]} takes at most one argument (the input)")
    return WorkflowDefinition(
        name=name,
        cls=cls,
        run_name=run_names[0],
        run_takes_arg=bool(parameters),
        signals=signals,
        queries=queries,
        timeout_seconds=timeout,
        updates=updates,
        update_validators=validators,
    )


def workflow_definition(cls: type) -> WorkflowDefinition:
    """The definition attached by ``@workflow.defn``; TypeError for undecorated classes."""
    definition = getattr(cls, _DEFN_ATTR, None)
    if not isinstance(definition, WorkflowDefinition) or definition.cls is not cls:
        raise TypeError(f"{cls!r} is not a workflow: decorate it with @workflow.defn")
    return definition
