"""The schedule routes over a real server: create, read, update, pause, resume, trigger,
delete, list — with namespace checks and field-naming errors."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.transports.api import get, post
from tests.transports.support import TENANT_A, TENANT_B, tenant

SPEC = {"every_seconds": 3600}


def create_body(**fields: Any) -> dict[str, Any]:
    return {
        "namespace": TENANT_A,
        "schedule_id": "hourly",
        "spec": SPEC,
        "workflow_type": "greeter",
        "input": "scheduled",
        **fields,
    }


async def call(client: TestClient, method: str, path: str, body: Any = None, ns: str = TENANT_A):
    response = await client.request(
        method, path, json=body, params={"namespace": ns}, headers=tenant(ns)
    )
    return response.status, await response.json()


async def test_schedule_lifecycle_over_http(client: TestClient) -> None:
    status, created = await post(client, "/schedules", create_body(), tenant(TENANT_A))
    assert status == 200, created
    assert created["schedule_id"] == "hourly"
    state = created["state"]
    assert (state["namespace"], state["workflow_type"], state["paused"]) == (
        TENANT_A,
        "greeter",
        False,
    )
    assert state["next_fire_times"]

    status, body = await call(client, "GET", "/schedules/hourly")
    assert status == 200 and body["state"]["schedule_id"] == "hourly"

    status, body = await call(client, "POST", "/schedules/hourly/pause")
    assert status == 200 and body["state"]["paused"] is True
    status, body = await call(client, "POST", "/schedules/hourly/resume")
    assert status == 200 and body["state"]["paused"] is False

    status, body = await call(client, "POST", "/schedules/hourly/trigger")
    assert status == 200, body
    executions = body["state"]["recent_executions"] + body["state"]["current_executions"]
    assert executions and executions[0]["workflow_id"].startswith("hourly/")

    status, body = await call(
        client, "PUT", "/schedules/hourly", create_body(spec={"every_seconds": 60})
    )
    assert status == 200 and body["state"]["spec"]["every_seconds"] == 60

    status, listing = await get(client, "/schedules", {"namespace": TENANT_A}, tenant(TENANT_A))
    assert status == 200 and [s["schedule_id"] for s in listing["schedules"]] == ["hourly"]

    status, body = await call(client, "DELETE", "/schedules/hourly")
    assert (status, body) == (200, {})
    status, body = await call(client, "GET", "/schedules/hourly")
    assert status == 404 and body["error_type"] == "ScheduleNotFound"


async def test_schedules_of_another_namespace_look_missing(client: TestClient) -> None:
    status, _ = await post(client, "/schedules", create_body(), tenant(TENANT_A))
    assert status == 200
    hidden = await call(client, "GET", "/schedules/hourly", ns=TENANT_B)
    missing = await call(client, "GET", "/schedules/never-made", ns=TENANT_B)
    assert hidden[0] == missing[0] == 404
    assert hidden[1]["code"] == missing[1]["code"] == "not_found"
    status, listing = await get(client, "/schedules", {"namespace": TENANT_B}, tenant(TENANT_B))
    assert status == 200 and listing["schedules"] == []
    status, body = await post(client, "/schedules", create_body(), tenant(TENANT_B))
    assert status == 403 and body["code"] == "namespace_denied"


async def test_bad_schedules_are_refused_naming_the_field(client: TestClient) -> None:
    status, body = await post(
        client, "/schedules", create_body(spec={"cron": "not a cron"}), tenant(TENANT_A)
    )
    assert status == 400 and body["code"] == "invalid_input"
    assert "cron" in body["message"]
    status, body = await post(
        client, "/schedules", create_body(spec={"every_seconds": 0}), tenant(TENANT_A)
    )
    assert status == 400 and "every_seconds" in body["message"]
    status, body = await post(client, "/schedules", create_body(colour="red"), tenant(TENANT_A))
    assert status == 400 and "colour" in body["message"]
    status, body = await post(
        client, "/schedules", create_body(workflow_type="nope"), tenant(TENANT_A)
    )
    assert status == 404 and body["error_type"] == "WorkflowTypeNotFound"
    status, listing = await get(client, "/schedules", {"namespace": TENANT_A}, tenant(TENANT_A))
    assert listing["schedules"] == []  # nothing was created by the refused requests
