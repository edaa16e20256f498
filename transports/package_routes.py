"""The package routes of PROTOCOL.md ("Versioned workflow packages") over ``engine.packages``.

Every route needs deploy rights (``x-aion-deploy: true`` in headers mode, the ``deploy``
claim in jwt mode; the local operator has them): without them the answer is 403
``deploy_denied`` and nothing changes. The archive is the raw request body
(``application/zip``), bounded by the engine's package limits rather than the JSON limit.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aionactors import (
    DeployDenied,
    DeployOutcome,
    InvalidInput,
    PackageInfo,
    PackageInvalid,
    RouteChange,
    packages,
)
from transports.models import EmptyResponse, Reply
from transports.parsing import read_body, read_query
from transports.state import RouteSpec, identity_of, state_of

_DEPLOY_ERRORS = ("deploy_denied",)
_READ_CHUNK = 256 * 1024


class DeployQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    route: bool = True
    """``false`` loads the version without pointing its types at it."""


class PackageList(Reply):
    packages: list[PackageInfo]


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    workflow_type: str = Field(min_length=1, max_length=255)
    content_hash: str = Field(min_length=1, max_length=200)


def _require_deploy(request: web.Request) -> None:
    identity = identity_of(request)
    if not identity.deploy:
        raise DeployDenied(f"caller {identity.subject!r} has no deploy rights")


def _checked_hash(text: str) -> str:
    if not packages.is_content_hash(text):
        raise InvalidInput(f"{text!r} is not a content hash ('sha256:' and 64 hex digits)")
    return text


async def _read_archive(request: web.Request) -> bytes:
    """The body, refused as soon as it passes the engine's compressed-size limit."""
    limit = state_of(request).engine.settings.package_limits.max_compressed_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PackageInvalid(f"the archive is {request.content_length} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PackageInvalid(f"the archive is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def deploy_package(request: web.Request) -> web.Response:
    _require_deploy(request)
    route = read_query(request, DeployQuery).route
    archive = await _read_archive(request)
    outcome = await state_of(request).engine.packages.deploy_async(archive, route=route)
    return web.json_response(outcome.model_dump(mode="json"))


async def list_packages(request: web.Request) -> web.Response:
    _require_deploy(request)
    listed = await state_of(request).engine.packages.list_async()
    return web.json_response({"packages": [p.model_dump(mode="json") for p in listed]})


async def route_package(request: web.Request) -> web.Response:
    _require_deploy(request)
    body = await read_body(request, RouteRequest)
    change = await state_of(request).engine.packages.route_async(
        body.workflow_type, _checked_hash(body.content_hash)
    )
    return web.json_response(change.model_dump(mode="json"))


async def unload_package(request: web.Request) -> web.Response:
    _require_deploy(request)
    content_hash = _checked_hash(request.match_info["content_hash"])
    await state_of(request).engine.packages.unload_async(content_hash)
    return web.json_response({})


def package_routes() -> list[RouteSpec]:
    deploy_description = (
        "Body: the package archive (a zip with aionactors-package.toml), Content-Type "
        "application/zip. A bad archive is 400 invalid_input with error_type PackageInvalid "
        "naming the cause; a type the server's own code defines is 409 already_exists."
    )
    return [
        RouteSpec("POST", "/packages", deploy_package, "Deploy a package version",
                  DeployOutcome, query=DeployQuery, description=deploy_description,
                  errors=(*_DEPLOY_ERRORS, "invalid_input", "already_exists")),
        RouteSpec("GET", "/packages", list_packages,
                  "Loaded versions, their routes and pinned-run counts", PackageList,
                  errors=_DEPLOY_ERRORS),
        RouteSpec("POST", "/packages/route", route_package,
                  "Route a workflow type to a loaded version (rollback, roll-forward)",
                  RouteChange, RouteRequest,
                  errors=(*_DEPLOY_ERRORS, "invalid_input", "not_found")),
        RouteSpec("DELETE", "/packages/{content_hash}", unload_package,
                  "Unload a version; refused while it routes a type or runs are pinned to it",
                  EmptyResponse,
                  errors=(*_DEPLOY_ERRORS, "invalid_input", "not_found", "invalid_state",
                          "version_pinned")),
    ]  # fmt: skip
