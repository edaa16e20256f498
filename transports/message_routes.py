"""``POST /workflows/update`` and ``POST /workflows/signal_with_start`` (PROTOCOL.md,
"Messages to running workflows"), with the ownership rules of every workflow route."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from aionactors import UpdateFailed
from aionactors.core import Unavailable
from aionactors.core.workflow_keys import public_id
from transports import message_models as mm
from transports.parsing import read_body
from transports.routes import _search_attributes
from transports.state import RouteSpec, identity_of, state_of


async def update_workflow(request: web.Request) -> web.Response:
    body = await read_body(request, mm.UpdateRequest)
    state = state_of(request)
    summary = await state.access.owned(identity_of(request), body.namespace, body.workflow_id)
    await state.access.require_run(summary, body.run_id, latest=True)
    try:
        result = await state.engine.update_async(
            summary.workflow_id,
            body.update_name,
            *body.args,
            run_id=body.run_id,
            timeout=body.wait_ms / 1000,
        )
    except UpdateFailed as exc:  # recorded: the handler's failure is the update's answer
        return web.json_response({"error": exc.to_wire()})
    return web.json_response({"result": result})


async def signal_with_start(request: web.Request) -> web.Response:
    body = await read_body(request, mm.SignalWithStartRequest)
    state = state_of(request)
    identity_of(request).require(body.namespace)
    existing = await asyncio.to_thread(state.engine.find_in, body.namespace, body.workflow_id)
    running = existing is not None and not existing.status.is_terminal
    if not running and (state.draining or state.engine.draining):
        raise Unavailable("the server is draining: new starts are refused")
    started = time.perf_counter()
    handle = await state.engine.signal_with_start_async(
        body.workflow_type,
        body.workflow_id,
        body.signal_name,
        body.payload,
        input=body.input,
        namespace=body.namespace,
        search_attributes=_search_attributes(body),
    )
    state.metrics.durable_ack.observe(time.perf_counter() - started, operation="signal_with_start")
    return web.json_response(
        {
            "workflow_id": public_id(handle.workflow_id),  # ids are per namespace
            "run_id": handle.run_id,
            "started": handle.started,
        }
    )


def message_routes() -> list[RouteSpec]:
    owned = ("invalid_input", "namespace_denied", "not_found")
    return [
        RouteSpec("POST", "/workflows/update", update_workflow,
                  "Run an update and answer its handler's result",
                  mm.UpdateResponse, mm.UpdateRequest,
                  errors=(*owned, "not_running", "query_timeout"),
                  description="Recorded (UpdateAccepted) before the handler runs and "
                  "(UpdateCompleted) before it is answered. A validator that rejects is 400 "
                  "invalid_input (UpdateRejected), an unknown name 400 (UnknownUpdate), "
                  "arguments that do not fit the handler 400 (ValidationError): nothing is "
                  "recorded. A terminal workflow is 412 not_running."),
        RouteSpec("POST", "/workflows/signal_with_start", signal_with_start,
                  "Signal a running workflow, or start it with the signal first",
                  mm.SignalWithStartResponse, mm.SignalWithStartRequest,
                  errors=("invalid_input", "namespace_denied", "not_found", "already_exists",
                          "unavailable"),
                  description="One durable step either way: the signal alone, or the start "
                  "and the signal in one append."),
    ]  # fmt: skip
