"""Operational routes: liveness, readiness (a real store read), metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from aionactors.core import Unavailable
from aionactors.store import probe_write
from transports import models as m
from transports.openapi import STREAM_DESCRIPTION, openapi_document
from transports.state import RouteSpec, ServerState, state_of
from transports.stream import stream_events

_log = logging.getLogger(__name__)
READY_TIMEOUT = 5.0


async def health_live(request: web.Request) -> web.Response:
    """The event loop answers: that is all liveness means."""
    return web.json_response({"status": "live"})


async def health_ready(request: web.Request) -> web.Response:
    """Ready when not draining, the schedules run, and the store commits a write."""
    state = state_of(request)
    if state.draining or state.engine.draining:
        raise Unavailable("the server is draining")
    schedules = state.engine.schedules
    if schedules is not None and not schedules.alive:
        raise Unavailable("the schedule subsystem is down (its supervisor gave up)")
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await asyncio.to_thread(probe_write, state.engine.store)
    except Exception as exc:
        reason = str(exc) or f"no answer within {READY_TIMEOUT:g}s"
        _log.warning("readiness: the store cannot commit a write: %s", reason)
        raise Unavailable(f"the store cannot commit a write: {reason}") from None
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Text format 0.0.4, or OpenMetrics when the Accept header asks for it."""
    body, content_type = state_of(request).metrics.render(request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(state_of(request).routes))


def install_gauges(state: ServerState) -> None:
    """Gauges read from the engine and the broadcaster at scrape time."""
    add = state.metrics.add_gauge
    add(
        "aionactors_resident_workflows",
        "Workflows holding an actor now.",
        state.engine.residency.resident_count,
    )
    add(
        "aionactors_stream_subscribers",
        "Live broadcast subscribers by kind.",
        lambda: {(("kind", k),): v for k, v in state.broadcaster.subscriber_counts().items()},
    )
    add("aionactors_stream_sockets", "Open /events/stream WebSockets.", lambda: len(state.sockets))
    queues = state.engine.task_queues
    add(
        "aionactors_task_queue_backlog",
        "Activity tasks waiting for a remote worker, by queue (0 once a queue drains).",
        lambda: {
            (("namespace", ns), ("task_queue", q)): n for (ns, q), n in queues.backlog().items()
        },
    )
    packages = state.engine.packages
    add(
        "aionactors_loaded_workflow_versions",
        "Workflow types loaded from package versions (a type in two versions counts twice).",
        packages.loaded_versions,
    )
    add(
        "aionactors_package_deploys_total",
        "Package deploy mutations by outcome (deployed, redeployed, refused, unloaded, ...).",
        lambda: {(("outcome", k),): v for k, v in packages.outcomes.items()},
        kind="counter",
    )
    add(
        "aionactors_stream_lagged_total",
        "Subscribers cut off with lagged.",
        lambda: state.broadcaster.lagged_total,
        kind="counter",
    )
    add(
        "aionactors_broadcast_events_total",
        "Events the broadcaster fanned out.",
        lambda: state.broadcaster.published_events,
        kind="counter",
    )
    add(
        "aionactors_broadcast_restarts_total",
        "Broadcaster actor restarts.",
        lambda: state.broadcaster.restarts,
        kind="counter",
    )
    add("aionactors_draining", "1 while the server drains.",
        lambda: float(state.draining or state.engine.draining))  # fmt: skip


def ops_routes() -> list[RouteSpec]:
    return [
        RouteSpec("GET", "/events/stream", stream_events, "Event stream (WebSocket)", None,
                  errors=("invalid_input", "namespace_denied", "not_found", "lagged"),
                  description=STREAM_DESCRIPTION),
        RouteSpec("GET", "/health/live", health_live, "Liveness", m.HealthResponse, public=True),
        RouteSpec("GET", "/health/ready", health_ready, "Readiness (reads the store)",
                  m.HealthResponse, errors=("unavailable",), public=True),
        RouteSpec("GET", "/metrics", metrics, "Prometheus metrics (text or OpenMetrics)", None,
                  public=True),
        RouteSpec("GET", "/openapi.json", openapi, "This document", None, public=True),
    ]  # fmt: skip
