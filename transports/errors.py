"""The error envelope of PROTOCOL.md: wire codes, HTTP statuses, and the middleware that maps them.

Every failure a client sees is ``{"code", "message", "error_type"?}`` with the
status its code stands for; handlers just raise ``AionError``s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from aionactors import AionError
from aionactors.core import InvalidInput, NotFound
from aionactors.store import StoreUnavailable

_log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 400,
    "unknown_query": 400,
    "unauthenticated": 401,
    "namespace_denied": 403,
    "deploy_denied": 403,
    "not_found": 404,
    "query_timeout": 408,
    "sequence_conflict": 409,
    "invalid_state": 409,
    "version_pinned": 409,
    "already_exists": 409,
    "not_running": 412,
    "lagged": 429,
    "backend": 500,
    "query_failed": 500,
    "unavailable": 503,
}


RETRY_AFTER_SECONDS = 1
"""What a 503 tells the client to wait: outages (a lock, a drain) are usually short."""


class Unauthenticated(AionError):
    """No valid credentials (JWT mode): 401."""

    code = "unauthenticated"
    error_type = "InvalidToken"


class PayloadTooLarge(InvalidInput):
    """The request body is over the configured limit: 413."""

    error_type = "PayloadTooLarge"


class RouteNotFound(NotFound):
    error_type = "RouteNotFound"


class MethodNotAllowed(InvalidInput):
    error_type = "MethodNotAllowed"


class ResumeCursorAheadOfHistory(InvalidInput):
    error_type = "ResumeCursorAheadOfHistory"


def status_for(error: AionError) -> int:
    if isinstance(error, PayloadTooLarge):
        return 413
    if isinstance(error, MethodNotAllowed):
        return 405
    return STATUS_BY_CODE.get(error.code, 500)


def error_response(error: AionError, headers: dict[str, str] | None = None) -> web.Response:
    headers = dict(headers or {})
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if error.code == "unavailable":
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return web.json_response(error.to_wire(), status=status_for(error), headers=headers or None)


def describe_validation_error(exc: ValidationError, what: str = "request body") -> str:
    """One line naming every offending field, e.g. ``field 'limit': Input should be ...``."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown field {location!r}")
        elif error["type"] == "json_invalid":
            problems.append(f"malformed JSON: {error['ctx'].get('error', error['msg'])}")
        elif location:
            problems.append(f"field {location!r}: {error['msg']}")
        else:
            problems.append(error["msg"])
    return f"invalid {what}: " + "; ".join(problems)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the envelope; unexpected ones are logged and become ``backend``."""
    try:
        return await handler(request)
    except StoreUnavailable as exc:  # the operator needs to know what the store said
        _log.warning("store unavailable serving %s %s: %s", request.method, request.path, exc)
        return error_response(exc)
    except AionError as exc:
        return error_response(exc)
    except ValidationError as exc:  # a model the engine validated from our (valid) input
        return error_response(InvalidInput(describe_validation_error(exc, "input")))
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(RouteNotFound(f"no route {request.method} {request.path}"))
        if isinstance(exc, web.HTTPMethodNotAllowed):  # RFC 9110: a 405 names what is allowed
            allowed = ", ".join(sorted(exc.allowed_methods))
            return error_response(
                MethodNotAllowed(f"{request.method} is not allowed on {request.path}"),
                {"Allow": allowed},
            )
        if exc.status == 413:
            return error_response(PayloadTooLarge(f"request body is too large: {exc.text}"))
        if exc.status >= 400:
            return error_response(_HttpError(exc.status, exc.reason))
        raise
    except ConnectionError as exc:  # the client went away: ordinary, and nobody to answer
        _log.info("client disconnected during %s %s: %s", request.method, request.path, exc)
        return error_response(InvalidInput(f"the client disconnected: {exc}"))
    except Exception as exc:
        _log.exception("unexpected error serving %s %s", request.method, request.path)
        return error_response(AionError(f"internal error: {type(exc).__name__}"))


class _HttpError(AionError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.code = "invalid_input" if status < 500 else "backend"  # type: ignore[misc]
