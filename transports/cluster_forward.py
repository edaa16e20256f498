"""Forwarding: on a cluster, any node answers any workflow route by asking the owner.

The routes that act on a live workflow (start, signal, query, update, cancel,
result...) must run on the node that owns the workflow's shard: it holds the
actor, and only its appends pass the fence. A node that is not the owner sends
the request, as received (headers and body, marked ``x-aion-forwarded-by``), to
the owner's advertise URL and hands its answer back, so a durable input is
acknowledged only once the owner made it durable. A start without a
``workflow_id`` gets one here, in a shard this node owns when it owns any, so
most starts need no hop. Reads that the store answers (history, describe,
list, count) are served locally.

Schedules live in the shard of their history ``schedule:{id}``: the routes on
one schedule (``/schedules/{id}``, its pause, resume, trigger) and its creation
are forwarded alike (a creation without ``schedule_id`` gets one in a shard this
node owns); ``GET /schedules`` is answered here, from the actors this node runs
and the store for the others.

While a shard changes hands (a node died, a rebalance), the request waits for
the new owner, up to two leases: a refusal that guarantees nothing was applied
(``NotOwner``, ``LeaseLost``, a connection refused) is tried again on whoever
owns the shard next. An owner that dies after receiving the request leaves its
outcome unknown: reads (query, result) are retried, anything else is answered
503 ``unavailable`` saying so, never applied twice by this node.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from aionactors.cluster import ClusterNode, LeaseLost, NotOwner
from aionactors.core import Unavailable
from aionactors.core.ids import new_id
from aionactors.core.search import DEFAULT_NAMESPACE
from aionactors.core.workflow_keys import peer_key
from aionactors.schedule import history_id
from transports.errors import Handler

_log = logging.getLogger("aionactors.cluster")

FORWARDED_BY = "x-aion-forwarded-by"
START_PATH = "/workflows/start"
CHILD_ENDED_PATH = "/cluster/child_ended"
"""A child's node tells its parent's owner that the child ended (see cluster_routes)."""
FORWARDED_PATHS = frozenset({
    START_PATH, "/workflows/signal", "/workflows/signal_with_start", "/workflows/query",
    "/workflows/update", "/workflows/cancel", "/workflows/terminate", "/workflows/result",
    "/workflows/reopen", "/workflows/pause", "/workflows/resume", CHILD_ENDED_PATH,
})  # fmt: skip
RETRY_SAFE_PATHS = frozenset({"/workflows/query", "/workflows/result"})
"""Reads: asked again of the next owner when the first one dies mid-request."""
SCHEDULES_PATH = "/schedules"
_REFUSALS = frozenset({"LeaseLost", "NotOwner"})
"""Error types an owner answers only when it applied nothing."""
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_ID_ATTEMPTS = 256
_POLL_SECONDS = 0.05
_SESSION = web.AppKey("aionactors_cluster_session", aiohttp.ClientSession)


IN_ROUTE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aionactors_in_route", default=False
)
"""Set while a node's app handles a request: the route layer forwards by itself (and
retries a NotOwner on the next owner), so the node's engine must not forward again.
Threads started by ``asyncio.to_thread`` inherit it; actor and engine threads do not."""


@web.middleware
async def in_route_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    IN_ROUTE.set(True)
    return await handler(request)


def install_forwarding(app: web.Application) -> None:
    """One HTTP client session per app, for the hops to the owners."""

    async def open_session(app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=2.0)
        app[_SESSION] = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await app[_SESSION].close()

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)


def forwarding_middleware(node: ClusterNode) -> Any:
    """The middleware that runs each workflow route on its owner (after auth)."""

    @web.middleware
    async def forward(request: web.Request, handler: Handler) -> web.StreamResponse:
        if FORWARDED_BY in request.headers:
            return await handler(request)
        if request.method == "POST" and request.path in FORWARDED_PATHS:
            key_of = _workflow_key
        elif request.path.startswith(SCHEDULES_PATH + "/") or (
            request.method == "POST" and request.path == SCHEDULES_PATH
        ):
            key_of = _schedule_key
        else:
            return await handler(request)
        try:
            raw = await request.read()
        except web.HTTPException:
            return await handler(request)  # oversize: the handler answers with the envelope
        key, rewritten = key_of(node, request, raw)
        if rewritten is not None:
            raw = rewritten
            request._read_bytes = raw  # the local handler reads the body with the chosen id
        if key is None:
            return await handler(request)  # malformed: validation answers locally
        return await _run_on_owner(node, request, handler, raw, key)

    return forward


RouteKey = tuple[str | None, bytes | None]
"""The id whose shard's owner runs the request, and the body rewritten to name it."""


def _workflow_key(node: ClusterNode, request: web.Request, raw: bytes) -> RouteKey:
    workflow_id = _workflow_id(raw)
    if workflow_id is None and request.path == START_PATH and _is_object(raw):
        namespace = _namespace(_parsed(raw))  # ids are per namespace: the key names it
        return _with_new_id(node, raw, "workflow_id", lambda c: peer_key(namespace, c))
    return workflow_id, None


def _schedule_key(node: ClusterNode, request: web.Request, raw: bytes) -> RouteKey:
    if request.path == SCHEDULES_PATH:  # creation: the id is in the body, or chosen here
        body = _parsed(raw)
        if not isinstance(body, dict):
            return None, None
        schedule_id = body.get("schedule_id")
        if schedule_id is None:
            return _with_new_id(node, raw, "schedule_id", history_id)
        return (history_id(schedule_id), None) if isinstance(schedule_id, str) else (None, None)
    schedule_id = request.path[len(SCHEDULES_PATH) + 1 :].partition("/")[0]
    return (history_id(schedule_id), None) if schedule_id else (None, None)


async def _run_on_owner(
    node: ClusterNode, request: web.Request, handler: Handler, raw: bytes, workflow_id: str
) -> web.StreamResponse:
    leases = node.leases
    shard = leases.shard_map.shard_of(workflow_id)
    loop = asyncio.get_running_loop()
    settings = node.settings
    deadline = loop.time() + 2 * settings.lease_seconds + settings.renew_seconds
    while True:
        owner = _owner_url(node, shard, workflow_id)
        if owner == "":
            try:
                return await handler(request)
            except (NotOwner, LeaseLost):
                pass  # lost it just now: nothing was applied, ask the next owner
        elif owner is not None:
            answer = await _send(request, owner, raw, settings.node_id, workflow_id)
            if answer is not None:
                return answer
        if loop.time() > deadline:
            raise Unavailable(
                f"shard {shard} of workflow {workflow_id!r} has no reachable owner yet"
                " (a node is failing over): nothing was applied, retry"
            )
        await asyncio.sleep(_POLL_SECONDS)


def _owner_url(node: ClusterNode, shard: int, workflow_id: str) -> str | None:
    """ "" when this node runs the shard, the owner's URL, or None while nobody does."""
    if node.leases.owns(workflow_id):
        return ""
    view = node.leases.view()
    owner = view.owner_of(shard) if view is not None else None
    if owner is None or owner.node_id == node.settings.node_id:
        return None  # free, expired, or being handed over by this very node
    return owner.advertise_url


async def _send(
    request: web.Request, owner: str, raw: bytes, node_id: str, workflow_id: str
) -> web.Response | None:
    """The owner's answer, or None when it certainly applied nothing (ask again)."""
    session = request.app[_SESSION]
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
    headers[FORWARDED_BY] = node_id
    try:
        async with session.request(
            request.method, owner + request.path_qs, data=raw, headers=headers
        ) as reply:
            body = await reply.read()
            status = reply.status
            content_type = reply.headers.get("Content-Type", "application/json")
            retry_after = reply.headers.get("Retry-After")
    except aiohttp.ClientConnectorError:
        return None  # never reached it: nothing was sent
    except (aiohttp.ClientError, TimeoutError) as exc:
        if request.path in RETRY_SAFE_PATHS or request.method == "GET":
            return None
        raise Unavailable(
            f"the owner {owner} of workflow {workflow_id!r} failed while handling the request"
            f" ({type(exc).__name__}): it may or may not have been applied; read the"
            " workflow before retrying"
        ) from None
    if status == 503 and _error_type(body) in _REFUSALS:
        return None
    response = web.Response(status=status, body=body, headers={"Content-Type": content_type})
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None


def _is_object(raw: bytes) -> bool:
    return isinstance(_parsed(raw), dict)


def _workflow_id(raw: bytes) -> str | None:
    """The engine key the body names (ids are per namespace), None if it names none."""
    body = _parsed(raw)
    workflow_id = body.get("workflow_id") if isinstance(body, dict) else None
    if not isinstance(workflow_id, str) or not workflow_id:
        return None
    return peer_key(_namespace(body), workflow_id)


def _namespace(body: dict[str, Any]) -> str:
    namespace = body.get("namespace", DEFAULT_NAMESPACE)
    return namespace if isinstance(namespace, str) else DEFAULT_NAMESPACE


def _with_new_id(
    node: ClusterNode, raw: bytes, field: str, key_of: Callable[[str], str]
) -> tuple[str, bytes]:
    """A fresh id for ``field``, whose key is in a shard this node owns when it owns any,
    and the body with it."""
    candidate = new_id()
    for _ in range(_ID_ATTEMPTS):
        if node.leases.owns(key_of(candidate)):
            break
        candidate = new_id()
    body = _parsed(raw)
    body[field] = candidate
    return key_of(candidate), json.dumps(body).encode()


def _error_type(body: bytes) -> str | None:
    parsed = _parsed(body)
    return parsed.get("error_type") if isinstance(parsed, dict) else None
