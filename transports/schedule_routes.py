"""The schedule routes of PROTOCOL.md over the engine's ``Schedules``.

A schedule belongs to the namespace in its config, and schedule ids are per
namespace: each route looks the path's id up in the request's namespace, so two
namespaces may each have a "nightly" and no answer depends on another namespace's
schedules. A caller granted the namespace sees its schedules; a schedule of another
namespace is the same ``not_found`` as one that does not exist (anti-leak), and
naming a namespace one is not granted is ``namespace_denied``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from aionactors.core import InvalidInput
from aionactors.core.schedules import ScheduleConfig
from aionactors.core.workflow_keys import public_json
from aionactors.schedule import Schedules, ScheduleState
from transports.models import EmptyResponse, Reply
from transports.parsing import read_body, read_query
from transports.state import RouteSpec, identity_of, state_of


class ScheduleCreateRequest(ScheduleConfig):
    """A schedule's whole config, plus an optional id of the caller's choosing."""

    schedule_id: str | None = Field(default=None, min_length=1, max_length=255)


class NamespaceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: str = "default"


class ScheduleCreated(Reply):
    schedule_id: str
    state: ScheduleState


class ScheduleReply(Reply):
    state: ScheduleState


class ScheduleList(Reply):
    schedules: list[ScheduleState]


def _schedules(request: web.Request) -> Schedules:
    schedules = state_of(request).engine.schedules
    assert schedules is not None  # routes are only served when the engine runs schedules
    return schedules


def _config(body: ScheduleCreateRequest) -> ScheduleConfig:
    return ScheduleConfig.model_validate(body.model_dump(exclude={"schedule_id"}))


def _target(request: web.Request) -> tuple[str, str]:
    """The path's schedule id and the request's namespace (which the caller must hold)."""
    namespace = read_query(request, NamespaceQuery).namespace
    identity_of(request).require(namespace)
    return request.match_info["schedule_id"], namespace


def _wire(state: ScheduleState) -> dict[str, Any]:
    """A schedule's state as the wire shows it: its runs by their ids in its namespace."""
    wire: dict[str, Any] = public_json(state.model_dump(mode="json"))
    return wire


def _state(state: ScheduleState) -> web.Response:
    return web.json_response({"state": _wire(state)})


async def create_schedule(request: web.Request) -> web.Response:
    body = await read_body(request, ScheduleCreateRequest)
    identity_of(request).require(body.namespace)
    state = await _schedules(request).create_async(_config(body), body.schedule_id)
    return web.json_response({"schedule_id": state.schedule_id, "state": _wire(state)})


async def list_schedules(request: web.Request) -> web.Response:
    namespace = read_query(request, NamespaceQuery).namespace
    identity_of(request).require(namespace)
    states = await _schedules(request).list_async(namespace)
    return web.json_response({"schedules": [_wire(s) for s in states]})


async def get_schedule(request: web.Request) -> web.Response:
    schedule_id, namespace = _target(request)
    state = await _schedules(request).describe_async(schedule_id, 5, namespace=namespace)
    return _state(state)  # 5 fire times, as Schedules.describe shows


async def update_schedule(request: web.Request) -> web.Response:
    """PUT: the body's namespace, if given, must be the request's (it names the schedule)."""
    schedule_id, namespace = _target(request)
    body = await read_body(request, ScheduleCreateRequest)
    if "namespace" not in body.model_fields_set:
        body = body.model_copy(update={"namespace": namespace})
    elif body.namespace != namespace:
        raise InvalidInput(
            f"namespace: the body's {body.namespace!r} is not the request's {namespace!r}"
            " (a schedule never moves to another namespace)"
        )
    return _state(await _schedules(request).update_async(schedule_id, _config(body)))


async def delete_schedule(request: web.Request) -> web.Response:
    schedule_id, namespace = _target(request)
    await _schedules(request).delete_async(schedule_id, namespace=namespace)
    return web.json_response({})


def _action(name: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        schedule_id, namespace = _target(request)
        act = getattr(_schedules(request), f"{name}_async")
        return _state(await act(schedule_id, namespace=namespace))

    handler.__name__ = f"{name}_schedule"
    return handler


def schedule_routes() -> list[RouteSpec]:
    owned = ("invalid_input", "namespace_denied", "not_found")
    path = "/schedules/{schedule_id}"
    routes = [
        RouteSpec("POST", "/schedules", create_schedule, "Create a schedule",
                  ScheduleCreated, ScheduleCreateRequest,
                  errors=("invalid_input", "namespace_denied", "not_found", "already_exists")),
        RouteSpec("GET", "/schedules", list_schedules, "List a namespace's schedules",
                  ScheduleList, query=NamespaceQuery, errors=("invalid_input", "namespace_denied")),
        RouteSpec("GET", path, get_schedule, "A schedule's state, next fire times, executions",
                  ScheduleReply, query=NamespaceQuery, errors=owned),
        RouteSpec("PUT", path, update_schedule, "Replace a schedule's config",
                  ScheduleReply, ScheduleCreateRequest, errors=owned),
        RouteSpec("DELETE", path, delete_schedule, "Delete a schedule (its runs go on)",
                  EmptyResponse, query=NamespaceQuery, errors=owned),
    ]  # fmt: skip
    for action, summary in (
        ("pause", "Pause a schedule"),
        ("resume", "Resume a schedule (no catch-up for the paused time)"),
        ("trigger", "Fire a schedule now, under its overlap policy"),
    ):
        routes.append(
            RouteSpec("POST", f"{path}/{action}", _action(action), summary, ScheduleReply,
                      query=NamespaceQuery, errors=owned)
        )  # fmt: skip
    return routes
