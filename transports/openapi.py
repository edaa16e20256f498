"""``/openapi.json``, built from the route table and the models that validate requests."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

import aionactors
from transports import models as m
from transports.errors import STATUS_BY_CODE
from transports.state import RouteSpec

_REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")

STREAM_DESCRIPTION = """WebSocket. The first text frame is a `Subscribe` object; ping/pong are
ignored. Event frames are `StreamFrame` (`{namespace, event}`). A terminal error is one
`StreamErrorFrame` (`{error}`) text frame, then close 1011 with reason = the error code
(`invalid_input`, `ResumeCursorAheadOfHistory`, `namespace_denied`, `not_found`,
`lagged`, `unavailable`). per_workflow attaches live first, replays history from
`resume_from_seq`, then sends live events with seq > last sent: contiguous and
duplicate-free across reconnects with `resume_from_seq = last_seq + 1`. It ends with
close 1000 after a terminal event (Completed, Failed, Cancelled, TimedOut,
ContinuedAsNew) unless the replayed history already holds later events (a
reopened or restarted workflow). firehose and filtered are live only and never see
another namespace. Identity may be given as query parameters (`x-aion-subject`,
`x-aion-namespaces`, `x-aion-deploy`, or `access_token` in jwt mode)."""

_AUTH_DESCRIPTION = """Auth mode `headers`: `x-aion-subject`, `x-aion-namespaces` (comma separated,
`*` = all), `x-aion-deploy: true`; no headers at all = the local operator (all namespaces);
a subject without namespaces is granted none. Auth mode `jwt`: `Authorization: Bearer <JWT>`
(HS, RS, PS, ES, EdDSA) with claims `sub`, `namespaces`, `deploy`, `exp`; failure is 401
`unauthenticated`. A workflow of another namespace is reported exactly like a missing one
(`not_found`)."""


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF, mode="validation")
        self.components.update(schema.pop("$defs", {}))
        self.components[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(route: RouteSpec, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "responses": {},
    }
    if route.description:
        operation["description"] = route.description
    parameters = _path_parameters(route.path)
    if route.request is not None:
        operation["requestBody"] = {"required": True, **_json(schemas.ref(route.request))}
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=_REF)
        schemas.components.update(schema.pop("$defs", {}))
        parameters += [
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "schema": prop if name != "search_attributes" else {"type": "string"},
                **(
                    {"description": "JSON list of predicates"}
                    if name == "search_attributes"
                    else {}
                ),
            }
            for name, prop in schema["properties"].items()
        ]
    if parameters:
        operation["parameters"] = parameters
    if route.response is not None:
        operation["responses"]["200"] = {"description": "OK", **_json(schemas.ref(route.response))}
    else:
        operation["responses"]["200"] = {"description": "OK"}
    error_ref = schemas.ref(m.ErrorBody)
    codes = set(route.errors) | (set() if route.public else {"unauthenticated"})
    if route.request is not None:
        operation["responses"]["413"] = {"description": "invalid_input (body too large)",
                                         **_json(error_ref)}  # fmt: skip
    by_status: dict[int, list[str]] = {}
    for code in sorted(codes):
        by_status.setdefault(STATUS_BY_CODE[code], []).append(code)
    for status, names in sorted(by_status.items()):
        operation["responses"][str(status)] = {"description": ", ".join(names), **_json(error_ref)}
    return operation


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """Every ``{name}`` in a route's path, as the required string parameter OpenAPI wants."""
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(path)
    ]


def openapi_document(routes: list[RouteSpec]) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    stream = paths.get("/events/stream", {}).get("get")
    if stream is not None:
        stream["x-websocket"] = {
            "subscribe": schemas.ref(m.Subscribe),
            "frames": [schemas.ref(m.StreamFrame), schemas.ref(m.StreamErrorFrame)],
        }
    _document_worker_stream(paths, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aionactors",
            "version": aionactors.__version__,
            "description": _AUTH_DESCRIPTION,
        },
        "paths": paths,
        "components": {"schemas": schemas.components},
    }


def _document_worker_stream(paths: dict[str, dict[str, Any]], schemas: _Schemas) -> None:
    """``x-websocket`` for ``/workers/stream``: the frames each side sends."""
    from transports.worker_frames import CLIENT_FRAMES, SERVER_FRAMES

    operation = paths.get("/workers/stream", {}).get("get")
    if operation is not None:
        operation["x-websocket"] = {
            "worker_frames": [schemas.ref(model) for model in CLIENT_FRAMES],
            "server_frames": [schemas.ref(model) for model in SERVER_FRAMES],
        }
