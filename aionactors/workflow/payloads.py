"""Typed payloads: pydantic models and dataclasses in, JSON on the wire and in the store.

Histories hold JSON only. A parameter annotated with a pydantic model, a
dataclass (or a container of them, an Optional of one, an Enum, a datetime, a
UUID...) receives that type, converted from the recorded JSON by the
callable's type hints; a model or dataclass handed to the engine is dumped with
``model_dump(mode="json")`` before it is recorded. Unannotated, ``Any``,
``dict`` and other plain JSON annotations are passed through untouched, exactly
as before. Conversion always starts from recorded JSON, so replay converts the
same bytes the same way: it cannot break determinism.

    class Order(BaseModel):
        id: int

    @workflow.run
    async def run(self, order: Order) -> Receipt: ...   # order is an Order
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import typing
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

_log = logging.getLogger(__name__)

_RICH_LEAVES: tuple[type, ...] = (BaseModel, Enum, datetime, date, time, timedelta, UUID, Decimal)
"""Types JSON cannot carry as themselves: values of these are converted both ways."""
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


class PayloadValidationError(ValueError):
    """A payload does not fit the type its handler declares; the message names the field."""


def needs_conversion(annotation: Any) -> bool:
    """Whether values for ``annotation`` differ from their JSON form (models, dataclasses...)."""
    if annotation is None or annotation is Any or annotation is inspect.Parameter.empty:
        return False
    if isinstance(annotation, type):
        return dataclasses.is_dataclass(annotation) or issubclass(annotation, _RICH_LEAVES)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return False
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        arguments = arguments[:1]
    return any(needs_conversion(argument) for argument in arguments)


@cache
def adapter_for(annotation: Any) -> TypeAdapter[Any]:
    """One TypeAdapter per annotation, built once (they are costly to build)."""
    return TypeAdapter(annotation)


def _converter(annotation: Any) -> TypeAdapter[Any] | None:
    return adapter_for(annotation) if needs_conversion(annotation) else None


def to_json(value: Any) -> Any:
    """``value`` with every model, dataclass and rich leaf dumped to JSON; plain JSON as is."""
    kind = type(value)
    if kind in _JSON_SCALARS:  # the common case first: this runs on every payload
        return value
    if kind is dict or (kind not in (list, tuple) and isinstance(value, dict)):
        converted = {key: to_json(item) for key, item in value.items()}
        changed = any(converted[key] is not item for key, item in value.items())
        return converted if changed else value
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        items = [to_json(item) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return items if changed else value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, _RICH_LEAVES) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return pydantic_core.to_jsonable_python(value)
    return value


def describe_errors(exc: ValidationError) -> str:
    """``field 'lines.0.qty': Input should be a valid integer; ...`` (every problem, one line)."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        problems.append(f"field {location!r}: {error['msg']}" if location else error["msg"])
    return "; ".join(problems)


def _validate(adapter: TypeAdapter[Any], value: Any, what: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise PayloadValidationError(f"{what} is invalid: {describe_errors(exc)}") from None


@dataclasses.dataclass(frozen=True)
class CallTypes:
    """How to convert a callable's positional arguments and its result (None: pass through)."""

    name: str
    params: tuple[TypeAdapter[Any] | None, ...]
    rest: TypeAdapter[Any] | None
    """For ``*args``: applied to every argument past ``params``."""
    result: TypeAdapter[Any] | None

    def decode(self, args: Sequence[Any], what: str | None = None) -> list[Any]:
        """The arguments as the callable declares them; PayloadValidationError if not."""
        label = what or f"argument of {self.name}"
        decoded = []
        for index, value in enumerate(args):
            adapter = self.params[index] if index < len(self.params) else self.rest
            position = f"{label} #{index + 1}" if len(args) > 1 else label
            decoded.append(value if adapter is None else _validate(adapter, value, position))
        return decoded

    def decode_result(self, value: Any) -> Any:
        """A recorded result (JSON) as the callable's return annotation declares it."""
        if self.result is None:
            return value
        return _validate(self.result, value, f"result of {self.name}")


def call_types(fn: Callable[..., Any], *, method: bool = False) -> CallTypes:
    """The conversions of ``fn`` (a function; ``method=True`` skips ``self``), cached."""
    return _call_types(inspect.unwrap(getattr(fn, "__func__", fn)), method)


@cache
def _call_types(fn: Callable[..., Any], method: bool) -> CallTypes:
    name = getattr(fn, "__qualname__", repr(fn))
    hints = _hints(fn, name)
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass everything through
        return CallTypes(name, (), None, None)
    if method:
        parameters = parameters[1:]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = tuple(_converter(hints.get(p.name)) for p in parameters if p.kind in positional)
    variadic = [p for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL]
    rest = _converter(hints.get(variadic[0].name)) if variadic else None
    return CallTypes(name, params, rest, _converter(hints.get("return")))


def _hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    """Resolved type hints; names that cannot be resolved (a model local to a function under
    ``from __future__ import annotations``) are left unconverted, with a warning."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # NameError, or a hint that is not a type at all
        raw = getattr(fn, "__annotations__", {})
        resolved = {k: v for k, v in raw.items() if not isinstance(v, str)}
        _log.warning("type hints of %s cannot be resolved (%s): payloads stay JSON", name, exc)
        return resolved
