"""Activities as authors write them: ``@activity.defn``, ``activity.info()``, ``heartbeat()``.

An activity is a plain function (sync or async) taking at most one JSON input and
returning a JSON value. The decorator returns the function unchanged, so it stays
callable in unit tests; the engine finds its :class:`ActivityDefinition` with
:func:`activity_definition`.

Example::

    from aionactors import activity

    @activity.defn(name="charge")
    def charge(order: dict) -> dict:
        for line in order["lines"]:
            activity.heartbeat()          # liveness; raises if the engine cancelled us
            ...
        return {"paid": True, "attempt": activity.info().attempt}

Inside a running attempt the engine binds an :class:`ActivityContext` to a
context variable, so ``info()``/``heartbeat()`` work both in executor threads and
in asyncio tasks.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, overload

from aionactors.core.payload import ActivityError, ActivityErrorKind
from aionactors.workflow.payloads import PayloadValidationError, call_types

F = TypeVar("F", bound=Callable[..., Any])

_DEFINITION_ATTR = "__aionactors_activity__"


class ActivityCancelledError(BaseException):
    """Raised inside an activity whose attempt the engine cancelled (or timed out).

    A ``BaseException``, like ``asyncio.CancelledError``, so that a broad
    ``except Exception`` in activity code does not swallow the cancellation.
    """


class ApplicationError(Exception):
    """A failure the activity reports on purpose; ``non_retryable=True`` stops retries.

    ``type`` names the error for ``RetryPolicy.non_retryable_error_types`` (defaults to
    ``"ApplicationError"``); ``details`` must be a JSON value.
    """

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        non_retryable: bool = False,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.non_retryable = non_retryable
        self.details = details


def error_from_exception(exc: BaseException) -> ActivityError:
    """The error recorded for an attempt that raised ``exc``: retryable unless marked terminal."""
    kind = ActivityErrorKind.RETRYABLE
    error_type = type(exc).__name__
    details: Any = None
    if isinstance(exc, ApplicationError):
        if exc.non_retryable:
            kind = ActivityErrorKind.TERMINAL
        error_type = exc.type or error_type
        try:
            details = json.loads(json.dumps(exc.details, allow_nan=False))
        except (TypeError, ValueError):  # keep the failure, lose only the structure
            details = repr(exc.details)
    return ActivityError(
        kind=kind, type=error_type, message=str(exc) or error_type, details=details
    )


@dataclass(frozen=True)
class ActivityDefinition:
    """A registered activity: its name, the function, and how to call it."""

    name: str
    fn: Callable[..., Any]
    is_async: bool
    takes_input: bool = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError("an activity name must be a non-empty string")
        object.__setattr__(self, "takes_input", _takes_input(self.fn, self.name))

    def call(self, input: Any) -> Any:
        """Call the function with the JSON input (or with nothing if it takes none), converted
        to its parameter's annotation (a pydantic model, a dataclass...) if it has one.

        Input that does not fit is a non-retryable failure: another attempt cannot fix it.
        """
        if not self.takes_input:
            return self.fn()
        try:
            (arg,) = call_types(self.fn).decode([input], f"input of activity {self.name!r}")
        except PayloadValidationError as exc:
            kind = "PayloadValidationError"
            raise ApplicationError(str(exc), type=kind, non_retryable=True) from None
        return self.fn(arg)


def _takes_input(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass the input
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [
        p
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (*positional, inspect.Parameter.KEYWORD_ONLY)
    ]
    if len(required) > 1 or any(p.kind is inspect.Parameter.KEYWORD_ONLY for p in required):
        raise TypeError(
            f"activity {name!r} must take at most one positional parameter (its JSON input); "
            "pack several values into one dict"
        )
    return any(p.kind in positional or p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


@overload
def defn(fn: F, /) -> F: ...
@overload
def defn(*, name: str | None = None) -> Callable[[F], F]: ...
def defn(fn: F | None = None, /, *, name: str | None = None) -> F | Callable[[F], F]:
    """Mark a sync or async function as an activity; ``name`` defaults to ``fn.__name__``."""

    def mark(target: F) -> F:
        if not callable(target):
            raise TypeError(f"@activity.defn needs a function, got {target!r}")
        definition = ActivityDefinition(
            name=name if name is not None else target.__name__,
            fn=target,
            is_async=inspect.iscoroutinefunction(target),
        )
        try:
            setattr(target, _DEFINITION_ATTR, definition)
        except (AttributeError, TypeError) as exc:
            raise TypeError(f"@activity.defn cannot mark {target!r}: {exc}") from exc
        return target

    return mark(fn) if fn is not None else mark


def activity_definition(fn: Callable[..., Any]) -> ActivityDefinition:
    """The definition ``@activity.defn`` attached to ``fn``."""
    definition = getattr(fn, _DEFINITION_ATTR, None)
    if not isinstance(definition, ActivityDefinition):
        name = getattr(fn, "__name__", repr(fn))
        raise TypeError(f"{name} is not an activity: decorate it with @activity.defn")
    return definition


@dataclass(frozen=True)
class ActivityInfo:
    """What a running attempt knows about itself. Timeouts are in seconds."""

    workflow_id: str
    run_id: str
    activity_id: int
    activity_type: str
    attempt: int
    namespace: str
    task_queue: str
    start_to_close_timeout: float | None
    heartbeat_timeout: float | None
    scheduled_time: datetime
    started_time: datetime


class ActivityContext(Protocol):
    """What the engine binds for the duration of one attempt."""

    @property
    def info(self) -> ActivityInfo: ...

    def heartbeat(self, details: Any = None) -> None: ...

    def is_cancelled(self) -> bool: ...


_current: ContextVar[ActivityContext | None] = ContextVar("aionactors_activity", default=None)


@contextmanager
def enter_activity(context: ActivityContext) -> Iterator[None]:
    """Bind ``context`` as the running activity (used by the engine's executor)."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def _context(caller: str) -> ActivityContext:
    context = _current.get()
    if context is None:
        raise RuntimeError(
            f"activity.{caller}() called outside an activity: "
            "it only works while the engine runs an @activity.defn function"
        )
    return context


def info() -> ActivityInfo:
    """The running attempt's :class:`ActivityInfo`."""
    return _context("info").info


def heartbeat(details: Any = None) -> None:
    """Reset the heartbeat deadline; raises ActivityCancelledError once cancelled."""
    _context("heartbeat").heartbeat(details)


def is_cancelled() -> bool:
    """Whether the engine has cancelled (or timed out) this attempt."""
    return _context("is_cancelled").is_cancelled()
