"""The workflow routes of PROTOCOL.md: one handler per route, a thin async call into the engine.

Bodies are validated before anything reaches the engine; ownership is checked
before any workflow is touched (anti-leak ``not_found``); engine errors carry
their wire code and the error middleware renders them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pykka
from aiohttp import web

from aionactors import QueryFailed, UnknownQuery
from aionactors.core import (
    InvalidInput,
    NotRunning,
    Unavailable,
    WorkflowFilter,
    event_dict,
)
from aionactors.core.errors import QueryTimeout, WorkflowNotFound
from aionactors.core.search import (
    DEFAULT_NAMESPACE,
    SEARCH_ATTRIBUTES_ADAPTER,
    TASK_QUEUE_ATTRIBUTE,
)
from aionactors.core.workflow_keys import public_id, public_json, workflow_key
from transports import models as m
from transports.parsing import read_body, read_query
from transports.results import workflow_result
from transports.state import Handler, RouteSpec, ServerState, identity_of, state_of

_OWNED_ERRORS = ("invalid_input", "namespace_denied", "not_found")


def _ok(body: dict[str, Any] | list[Any], namespace: str = DEFAULT_NAMESPACE) -> web.Response:
    """A 200 reply; outside the default namespace, workflow keys are shown as ids."""
    return web.json_response(body if namespace == DEFAULT_NAMESPACE else public_json(body))


async def start_workflow(request: web.Request) -> web.Response:
    body = await read_body(request, m.StartRequest)
    state = state_of(request)
    identity_of(request).require(body.namespace)
    if state.draining or state.engine.draining:
        raise Unavailable("the server is draining: new starts are refused")
    started = time.perf_counter()  # ids are per namespace: no other tenant's id matters
    handle = await state.engine.start_workflow_async(
        body.workflow_type,
        body.input,
        workflow_id=body.workflow_id,
        namespace=body.namespace,
        search_attributes=_search_attributes(body),
        parent_workflow_id=await _parent_of(state, body),
        package_version=body.package_version,
    )
    state.metrics.durable_ack.observe(time.perf_counter() - started, operation="start")
    return _ok({"workflow_id": public_id(handle.workflow_id), "run_id": handle.run_id})


async def _parent_of(state: ServerState, body: m.StartRequest) -> str | None:
    """The key of the parent a node names for a child it starts on this node's shard."""
    if body.parent_workflow_id is None:
        return None
    if state.cluster is None:
        raise InvalidInput("field 'parent_workflow_id': only cluster nodes start children here")
    parent = workflow_key(body.namespace, body.parent_workflow_id)
    if await asyncio.to_thread(state.engine.summary, parent) is None:  # a store read
        raise WorkflowNotFound(parent)
    return parent


def _search_attributes(body: m.StartRequest) -> dict[str, Any] | None:
    given: dict[str, Any] = dict(body.search_attributes or {})
    if body.task_queue is not None:
        given[TASK_QUEUE_ATTRIBUTE] = body.task_queue
    typed = {name: value for name, value in given.items() if isinstance(value, dict)}
    if typed:
        try:
            given |= SEARCH_ATTRIBUTES_ADAPTER.validate_python(typed)
        except ValueError as exc:
            raise InvalidInput(f"field 'search_attributes': {exc}") from None
    return given or None


async def signal_workflow(request: web.Request) -> web.Response:
    body = await read_body(request, m.SignalRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    await state.access.require_run(summary, body.run_id, latest=True)
    started = time.perf_counter()
    await state.engine.signal_async(summary.workflow_id, body.signal_name, body.payload)
    state.metrics.durable_ack.observe(time.perf_counter() - started, operation="signal")
    return _ok({})


async def query_workflow(request: web.Request) -> web.Response:
    body = await read_body(request, m.QueryRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    try:
        await state.access.require_run(summary, body.run_id, latest=True)
        result = await state.engine.query_async(summary.workflow_id, body.query_name, *body.args)
    except (UnknownQuery, QueryFailed, NotRunning) as exc:
        return _ok({"error": exc.to_wire()})
    except pykka.Timeout:
        timeout = state.engine.settings.query_timeout
        error = QueryTimeout(f"query {body.query_name!r} got no answer within {timeout} s")
        return _ok({"error": error.to_wire()})
    return _ok({"result": result})


async def cancel_workflow(request: web.Request, *, terminate: bool = False) -> web.Response:
    body = await read_body(request, m.ReasonRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    await state.access.require_run(summary, body.run_id, latest=True)
    started = time.perf_counter()
    await state.engine.cancel_async(summary.workflow_id, body.reason, terminate=terminate)
    operation = "terminate" if terminate else "cancel"
    state.metrics.durable_ack.observe(time.perf_counter() - started, operation=operation)
    return _ok({})


async def terminate_workflow(request: web.Request) -> web.Response:
    """Cancel without compensation: the terminal event is recorded before the run stops."""
    return await cancel_workflow(request, terminate=True)


async def workflow_result_route(request: web.Request) -> web.Response:
    body = await read_body(request, m.ResultRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    return _ok(await workflow_result(state, summary, body.run_id, body.wait_ms), body.namespace)


async def describe_workflow(request: web.Request) -> web.Response:
    body = await read_body(request, m.DescribeRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    await state.access.require_run(summary, body.run_id, latest=False)
    description = await state.engine.describe_async(summary.workflow_id)
    reply = description.model_dump(mode="json")
    if body.include_history:
        reply["history"] = [
            event_dict(e) for e in await state.engine.history_async(summary.workflow_id)
        ]
    return _ok(reply, body.namespace)


async def workflow_history(request: web.Request) -> web.Response:
    body = await read_body(request, m.HistoryRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    events = await state.engine.history_async(summary.workflow_id, body.from_seq)
    head = events[-1].seq if events else await state.access.head_seq(summary.workflow_id)
    page = events[: body.limit]
    more = len(events) > body.limit
    return _ok(
        {
            "events": [event_dict(e) for e in page],
            "next_from_seq": page[-1].seq + 1 if more else None,
            "head_seq": head,
        },
        body.namespace,
    )


def _filter_fields(flt: m.ListRequest, *, paged: bool) -> dict[str, Any]:
    fields = flt.model_dump(exclude_none=True)
    fields["search_attributes"] = tuple(flt.search_attributes)
    if not paged:
        fields.pop("limit", None)
        fields.pop("page_token", None)
    WorkflowFilter(**fields)  # the engine's own check, here, so errors name the field
    return fields


async def _engine_filter(
    request: web.Request, flt: m.ListRequest, *, paged: bool
) -> dict[str, Any]:
    """The filter's fields for the engine, its ``parent`` named by the parent's key: a
    child's summary records its parent's key (ids are per namespace), found in the
    filter's namespace as every route finds a workflow (under its bare id if stored so
    before)."""
    identity_of(request).require(flt.namespace)
    fields = _filter_fields(flt, paged=paged)
    if flt.parent is not None:
        engine = state_of(request).engine
        parent = await asyncio.to_thread(engine.find_in, flt.namespace, flt.parent)
        if parent is not None and parent.namespace == flt.namespace:
            fields["parent"] = parent.workflow_id
        else:  # no such parent: its children would still be keyed so
            fields["parent"] = workflow_key(flt.namespace, flt.parent)
    return fields


async def _list(request: web.Request, flt: m.ListRequest) -> web.Response:
    fields = await _engine_filter(request, flt, paged=True)
    page = await state_of(request).engine.list_workflows_async(**fields)
    return _ok(page.model_dump(mode="json"), flt.namespace)


async def list_workflows_post(request: web.Request) -> web.Response:
    return await _list(request, await read_body(request, m.ListRequest))


async def list_workflows_get(request: web.Request) -> web.Response:
    return await _list(request, read_query(request, m.ListRequest))


async def count_workflows(request: web.Request) -> web.Response:
    flt = read_query(request, m.CountRequest)
    fields = await _engine_filter(request, flt, paged=False)
    count = await state_of(request).engine.count_workflows_async(**fields)
    return _ok({"count": count})


def lifecycle_handler(action: str) -> Handler:
    """reopen / pause / resume; the caller's subject is recorded as the operator."""

    async def handler(request: web.Request) -> web.Response:
        body = await read_body(request, m.ReasonRequest)
        state = state_of(request)
        identity = identity_of(request)
        summary = await state.access.owned(identity, body.namespace, body.workflow_id)
        await state.access.require_run(summary, body.run_id, latest=True)
        engine: Any = state.engine
        key = summary.workflow_id
        if action == "pause":
            reply = await engine.pause_async(key, body.reason, identity.subject)
        elif action == "resume":
            reply = await engine.resume_async(key, identity.subject)
        else:
            reply = await engine.reopen_async(key)
        return _ok(
            {"workflow_id": public_id(reply["workflow_id"]), "run_id": reply["run_id"],
             "status": reply["status"]}
        )  # fmt: skip

    handler.__name__ = f"{action}_workflow"
    return handler


def workflow_routes(engine: object) -> list[RouteSpec]:
    owned = _OWNED_ERRORS
    routes = [
        RouteSpec("POST", "/workflows/start", start_workflow, "Start a workflow",
                  m.StartResponse, m.StartRequest,
                  errors=("invalid_input", "namespace_denied", "not_found", "already_exists",
                          "unavailable")),
        RouteSpec("POST", "/workflows/signal", signal_workflow,
                  "Signal a workflow (recorded before it is acknowledged)",
                  m.EmptyResponse, m.SignalRequest, errors=(*owned, "not_running")),
        RouteSpec("POST", "/workflows/query", query_workflow,
                  "Query a running workflow's live state", m.QueryResponse, m.QueryRequest,
                  errors=owned),
        RouteSpec("POST", "/workflows/cancel", cancel_workflow, "Cancel a workflow",
                  m.EmptyResponse, m.ReasonRequest, errors=(*owned, "not_running")),
        RouteSpec("POST", "/workflows/terminate", terminate_workflow,
                  "Terminate a workflow (no compensation)",
                  m.EmptyResponse, m.ReasonRequest, errors=(*owned, "not_running")),
        RouteSpec("POST", "/workflows/result", workflow_result_route,
                  "A workflow's outcome, waiting up to wait_ms for it",
                  m.ResultResponse, m.ResultRequest, errors=owned),
        RouteSpec("POST", "/workflows/describe", describe_workflow,
                  "Summary, pending work, runs and optionally history",
                  m.DescribeResponse, m.DescribeRequest, errors=owned),
        RouteSpec("POST", "/workflows/history", workflow_history, "A range of history",
                  m.HistoryResponse, m.HistoryRequest, errors=owned),
        RouteSpec("POST", "/workflows/list", list_workflows_post, "List workflows (filter body)",
                  m.ListResponse, m.ListRequest, errors=("invalid_input", "namespace_denied")),
        RouteSpec("GET", "/workflows", list_workflows_get, "List workflows (query string)",
                  m.ListResponse, query=m.ListRequest,
                  errors=("invalid_input", "namespace_denied")),
        RouteSpec("GET", "/workflows/count", count_workflows, "Count workflows (query string)",
                  m.CountResponse, query=m.CountRequest,
                  errors=("invalid_input", "namespace_denied")),
    ]  # fmt: skip
    for action in ("reopen", "pause", "resume"):
        if callable(getattr(engine, f"{action}_async", None)):
            routes.append(
                RouteSpec("POST", f"/workflows/{action}", lifecycle_handler(action),
                          f"{action.capitalize()} a workflow", m.LifecycleResponse,
                          m.ReasonRequest, errors=(*owned, "invalid_state", "not_running"))
            )  # fmt: skip
    return routes
