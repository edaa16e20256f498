"""The aiohttp application: routes from the table, auth, error envelope, metrics, lifecycle.

Example::

    engine = Engine.open("sqlite:///orders.db", workflows=[Checkout])
    app = create_app(engine, ServerConfig())
    web.run_app(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiohttp import WSCloseCode, web

from aionactors import Engine, tracing
from aionactors.cluster import ClusterNode
from aionactors.engine import Broadcaster
from transports.access import EngineAccess
from transports.auth import Authenticator, HeaderAuth, JwtAuth
from transports.cluster_forward import (
    forwarding_middleware,
    in_route_middleware,
    install_forwarding,
)
from transports.cluster_routes import (
    cluster_routes,
    install_cluster_metrics,
    local_identity,
)
from transports.config import ServerConfig
from transports.console_routes import console_routes
from transports.drain import drain_middleware, install_drain
from transports.errors import Handler, error_middleware
from transports.jwt import jwt_verifier_for
from transports.message_routes import message_routes
from transports.metrics import ServerMetrics
from transports.ops import install_gauges, ops_routes
from transports.package_routes import package_routes
from transports.routes import workflow_routes
from transports.schedule_routes import schedule_routes
from transports.state import IDENTITY, STATE, ServerState, state_of
from transports.workers_stream import HUB, install_worker_hub, worker_routes

_STREAM_PATH = "/events/stream"
_QUERY_AUTH_PATHS = frozenset({_STREAM_PATH, "/workers/stream"})
_SOCKETS_CLOSE_WAIT = 2.0


def authenticator_for(config: ServerConfig) -> Authenticator:
    if config.auth == "jwt":
        return JwtAuth(jwt_verifier_for(config))
    return HeaderAuth()


def create_app(
    engine: Engine,
    config: ServerConfig | None = None,
    *,
    broadcaster: Broadcaster | None = None,
    auth: Authenticator | None = None,
    cluster: ClusterNode | None = None,
    identity: tuple[str, str] | None = None,
) -> web.Application:
    """An app serving ``engine``. It starts (and on cleanup stops) its own broadcaster
    unless one is given. With ``cluster``, workflow routes run on their shard's owner
    (forwarded); ``identity`` is (node id, advertise URL), by default from the config."""
    config = config or ServerConfig()
    owns_broadcaster = broadcaster is None
    if broadcaster is None:
        # A cluster node's streams carry every node's commits, in the store's order.
        broadcaster = Broadcaster.start(cluster.commit_follower() if cluster else engine)
    metrics = ServerMetrics()
    engine.add_commit_listener(metrics.on_commit)
    state = ServerState(
        engine=engine,
        access=EngineAccess(engine),
        broadcaster=broadcaster,
        metrics=metrics,
        config=config,
        auth=auth or authenticator_for(config),
        cluster=cluster,
    )
    state.node_id, state.advertise_url = identity or local_identity(config.host, config.port)
    schedules = schedule_routes() if engine.schedules is not None else []
    state.routes = [
        *workflow_routes(engine),
        *message_routes(),
        *schedules,
        *package_routes(),
        *ops_routes(),
        *console_routes(),
        *worker_routes(),
        *cluster_routes(node=cluster is not None),
    ]
    install_gauges(state)
    if cluster is not None:
        install_cluster_metrics(state, cluster)
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            *([in_route_middleware] if cluster is not None else []),
            _tracing_middleware,
            _metrics_middleware,
            error_middleware,
            drain_middleware,
            _auth_middleware,
            *([forwarding_middleware(cluster)] if cluster is not None else []),
        ],
    )
    if cluster is not None:
        install_forwarding(app)
    app[STATE] = state
    install_drain(app)
    install_worker_hub(app, state)
    app[HUB].metrics = state.metrics.worker_metric
    public = {route.path for route in state.routes if route.public}
    app[_PUBLIC] = frozenset(public)
    for route in state.routes:
        app.router.add_route(route.method, route.path, route.handler, name=route.handler.__name__)

    async def end_streams(app: web.Application) -> None:
        if owns_broadcaster:  # every subscription ends with an `unavailable` error frame
            broadcaster.close()
        await _close_sockets(state)

    app.on_shutdown.append(end_streams)
    if owns_broadcaster:
        app.on_cleanup.append(lambda _: asyncio.to_thread(broadcaster.close))
    return app


_PUBLIC = web.AppKey("aionactors_public_paths", frozenset)


async def _close_sockets(state: ServerState) -> None:
    """Give streams a moment to send their closing frame, then close what is left."""
    if state.sockets:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_SOCKETS_CLOSE_WAIT):
                await state.sockets_closed.wait()
    for ws in list(state.sockets):
        with contextlib.suppress(Exception):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource  # public by route, e.g. /console/{asset}
    path = resource.canonical if resource is not None else request.path
    if path not in request.app[_PUBLIC]:
        state = state_of(request)
        query = request.query if request.path in _QUERY_AUTH_PATHS else {}
        if state.auth.blocking:
            identity = await asyncio.to_thread(state.auth.identify, request.headers, query)
        else:
            identity = state.auth.identify(request.headers, query)
        request[IDENTITY] = identity
    return await handler(request)


@web.middleware
async def _tracing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A server span per request, continuing the caller's W3C ``traceparent``; a start
    records it, so the run's activities join the caller's trace."""
    route = request.match_info.route.name or "unmatched"
    with tracing.span(
        f"{request.method} {request.path}",
        carrier=request.headers,
        attributes={"http.request.method": request.method, "http.route": route},
    ):
        return await handler(request)


@web.middleware
async def _metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    route = request.match_info.route.name or "unmatched"
    response = await handler(request)
    state = state_of(request)
    if not isinstance(response, web.WebSocketResponse):
        state.metrics.http_seconds.observe(time.perf_counter() - started, route=route)
    state.metrics.http_requests.inc(route=route, status=str(response.status))
    return response
