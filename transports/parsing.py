"""Reading request bodies and query strings into models, before anything reaches the engine.

Oversize bodies are refused from the Content-Length header when there is one
(nothing is read) and by aiohttp's ``client_max_size`` otherwise.
"""

from __future__ import annotations

import json
import math
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from aionactors.core import InvalidInput
from transports.errors import PayloadTooLarge, describe_validation_error
from transports.state import STATE

M = TypeVar("M", bound=BaseModel)

_JSON_QUERY_FIELDS = frozenset({"search_attributes"})


async def read_body(request: web.Request, model: type[M]) -> M:
    """The body validated as ``model`` (strict); an empty body is ``{}``."""
    limit = request.app[STATE].config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"request body is {request.content_length} bytes; the limit is {limit}"
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"request body is over the limit of {limit} bytes") from exc
    if not raw.strip():
        raw = b"{}"
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None
    if _NON_FINITE.search(raw):  # cheap: only a body holding the words is walked
        _refuse_non_finite(body.model_dump(), "")
    return body


_NON_FINITE = re.compile(rb"NaN|Infinity")


def _refuse_non_finite(value: object, path: str) -> None:
    """NaN and Infinity are not JSON (the history would store null): refuse them by field."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(
            f"invalid request body: field {path!r}: {value!r} is not a JSON number"
            " (NaN and Infinity are refused)"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_non_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_non_finite(item, f"{path}[{index}]")


def read_query(request: web.Request, model: type[M]) -> M:
    """Query parameters validated as ``model`` (lax: every value arrives as text)."""
    data: dict[str, object] = {}
    for name in request.query:
        values = request.query.getall(name)
        if len(values) > 1:
            raise InvalidInput(f"invalid query: parameter {name!r} is given more than once")
        value: object = values[0]
        if name in _JSON_QUERY_FIELDS:
            try:
                value = json.loads(values[0])
            except ValueError as exc:
                raise InvalidInput(
                    f"invalid query: parameter {name!r} is not JSON: {exc}"
                ) from None
            except RecursionError:
                raise InvalidInput(
                    f"invalid query: parameter {name!r} is nested too deeply"
                ) from None
        data[name] = value
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, "query")) from None
