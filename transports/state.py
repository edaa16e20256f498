"""What every handler shares: the engine, the broadcast, metrics, config, auth, the route table."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

from aionactors import Engine
from aionactors.cluster import ClusterNode
from aionactors.engine import Broadcaster
from transports.access import EngineAccess
from transports.auth import Authenticator, Identity
from transports.config import ServerConfig
from transports.errors import Handler
from transports.metrics import ServerMetrics


@dataclass(frozen=True)
class RouteSpec:
    """One HTTP route: served by the app and documented in /openapi.json from the same entry."""

    method: str
    path: str
    handler: Handler
    summary: str
    response: type[BaseModel] | None
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[str, ...] = ()
    public: bool = False
    """Served without authentication (health, metrics, the OpenAPI document)."""
    description: str = ""


@dataclass
class ServerState:
    engine: Engine
    access: EngineAccess
    broadcaster: Broadcaster
    metrics: ServerMetrics
    config: ServerConfig
    auth: Authenticator
    routes: list[RouteSpec] = field(default_factory=list)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    sockets_closed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever the last open stream socket has finished."""
    draining: bool = False
    cluster: ClusterNode | None = None
    """This server's cluster node (None: a server of its own, owning everything)."""
    node_id: str = ""
    advertise_url: str = ""


STATE = web.AppKey("aionactors_state", ServerState)
IDENTITY = web.RequestKey("aionactors_identity", Identity)


def state_of(request: web.Request) -> ServerState:
    return request.app[STATE]


def identity_of(request: web.Request) -> Identity:
    return request[IDENTITY]
