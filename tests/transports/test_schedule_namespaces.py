"""Schedule ids are per namespace (issue 13, as workflow ids are): over a real server, the
same schedule id in two namespaces names two schedules, the answer to a create never
depends on another namespace's schedules, a schedule stored under its bare id by an
earlier version stays reachable in its namespace, and no answer shows an engine key."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from aionactors.core.workflow_keys import KEY_SEPARATOR, workflow_key
from aionactors.schedule import facade
from tests.transports.support import TENANT_A, TENANT_B, tenant
from transports.state import STATE

HOUR = {"every_seconds": 3600}


class Calls:
    """Schedule requests as a caller granted one namespace; keeps every answer's text."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.texts: list[str] = []

    async def __call__(
        self, method: str, path: str, namespace: str, body: Any = None
    ) -> tuple[int, Any]:
        response = await self.client.request(
            method, path, json=body, params={"namespace": namespace}, headers=tenant(namespace)
        )
        self.texts.append(await response.text())
        return response.status, await response.json()

    async def create(self, namespace: str, schedule_id: str, **fields: Any) -> tuple[int, Any]:
        body = {"namespace": namespace, "schedule_id": schedule_id, "spec": HOUR,
                "workflow_type": "greeter", "input": namespace, **fields}  # fmt: skip
        return await self("POST", "/schedules", namespace, body)

    async def state(self, namespace: str, schedule_id: str) -> dict[str, Any]:
        status, body = await self("GET", f"/schedules/{schedule_id}", namespace)
        assert status == 200, body
        state: dict[str, Any] = body["state"]
        return state

    async def ended(self, namespace: str, schedule_id: str) -> dict[str, Any]:
        """The state once the schedule has seen the end of every run it started."""
        for _ in range(500):
            state = await self.state(namespace, schedule_id)
            if not state["current_executions"]:
                return state
            await asyncio.sleep(0.01)  # the run's end reaches the schedule's actor
        raise AssertionError(f"runs of {schedule_id} never ended: {state}")

    def assert_no_keys(self) -> None:
        for text in self.texts:
            assert KEY_SEPARATOR not in text and "\\u001f" not in text, text


@pytest.fixture
def calls(client: TestClient) -> Calls:
    return Calls(client)


async def test_the_same_schedule_id_in_two_namespaces_is_two_schedules(
    client: TestClient, calls: Calls
) -> None:
    for namespace in (TENANT_A, TENANT_B):
        status, body = await calls.create(namespace, "nightly")
        assert status == 200, body
        assert body["schedule_id"] == "nightly" and body["state"]["namespace"] == namespace
    status, body = await calls("POST", "/schedules/nightly/pause", TENANT_A)
    assert status == 200 and body["state"]["paused"] is True
    assert (await calls.state(TENANT_B, "nightly"))["paused"] is False  # untouched

    for namespace in (TENANT_A, TENANT_B):  # each fires its own run, in its namespace
        status, body = await calls("POST", "/schedules/nightly/trigger", namespace)
        assert status == 200, body
    engine = client.server.app[STATE].engine
    for namespace in (TENANT_A, TENANT_B):
        (run,) = (await calls.ended(namespace, "nightly"))["recent_executions"]
        assert run["workflow_id"].startswith("nightly/manual-") and run["status"] == "Completed"
        key = workflow_key(namespace, run["workflow_id"])
        assert engine.summary(key).namespace == namespace
        assert engine.result(key, timeout=5) == f"hello, {namespace}"

    status, body = await calls(
        "PUT", "/schedules/nightly", TENANT_B, {"spec": {"every_seconds": 60},
                                               "workflow_type": "greeter"}
    )  # fmt: skip
    assert status == 200 and body["state"]["namespace"] == TENANT_B  # stays in its namespace
    assert (await calls.state(TENANT_A, "nightly"))["spec"]["every_seconds"] == 3600
    status, body = await calls("DELETE", "/schedules/nightly", TENANT_A)
    assert (status, body) == (200, {})
    status, body = await calls("GET", "/schedules/nightly", TENANT_A)
    assert status == 404 and body["error_type"] == "ScheduleNotFound"
    assert (await calls.state(TENANT_B, "nightly"))["spec"]["every_seconds"] == 60
    status, listing = await calls("GET", "/schedules", TENANT_B)
    assert [s["schedule_id"] for s in listing["schedules"]] == ["nightly"]
    status, listing = await calls("GET", "/schedules", TENANT_A)
    assert listing["schedules"] == []
    calls.assert_no_keys()


async def test_the_answer_to_a_create_does_not_depend_on_another_namespace(
    calls: Calls,
) -> None:
    assert (await calls.create(TENANT_B, "taken"))[0] == 200
    assert (await calls.create(TENANT_B, "gone"))[0] == 200
    assert (await calls("DELETE", "/schedules/gone", TENANT_B))[0] == 200
    answers = {sid: await calls.create(TENANT_A, sid) for sid in ("taken", "gone", "fresh")}
    for schedule_id, (status, body) in answers.items():  # taken elsewhere or not: the same
        assert status == 200, body
        assert set(body) == {"schedule_id", "state"} and body["schedule_id"] == schedule_id
        assert body["state"]["namespace"] == TENANT_A
    status, body = await calls.create(TENANT_A, "taken")  # taken in *this* namespace
    assert status == 409 and body["code"] == "already_exists", body
    assert (await calls.state(TENANT_B, "taken"))["input"] == TENANT_B  # B's own config
    calls.assert_no_keys()


async def test_an_update_may_not_move_a_schedule_to_another_namespace(calls: Calls) -> None:
    assert (await calls.create(TENANT_A, "stay"))[0] == 200
    both = {"x-aion-subject": "op", "x-aion-namespaces": f"{TENANT_A},{TENANT_B}"}
    response = await calls.client.put(
        "/schedules/stay", params={"namespace": TENANT_A}, headers=both,
        json={"namespace": TENANT_B, "spec": HOUR, "workflow_type": "greeter"},
    )  # fmt: skip
    body = await response.json()
    assert response.status == 400 and body["code"] == "invalid_input", body
    assert "namespace" in body["message"]
    assert (await calls.state(TENANT_A, "stay"))["namespace"] == TENANT_A
    assert (await calls("GET", "/schedules/stay", TENANT_B))[0] == 404


async def test_a_schedule_stored_under_its_bare_id_stays_reachable_in_its_namespace(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier version keyed every namespace's schedules by their bare ids.
    with monkeypatch.context() as old_version:
        old_version.setattr(facade, "schedule_key", lambda namespace, schedule_id: schedule_id)
        assert (await calls.create(TENANT_A, "legacy"))[0] == 200
    client = calls.client
    engine = client.server.app[STATE].engine
    assert engine.store.head_seq("schedule:legacy") == 1  # under its bare id
    assert (await calls.state(TENANT_A, "legacy"))["schedule_id"] == "legacy"
    for namespace in (TENANT_B, "default"):  # still tenant-a's alone
        status, body = await calls("GET", "/schedules/legacy", namespace)
        assert status == 404 and body["code"] == "not_found"
        assert (await calls.create(namespace, "other"))[0] == 200
    status, body = await calls.create(TENANT_A, "legacy")  # one id, one schedule
    assert status == 409 and body["code"] == "already_exists"
    status, body = await calls("POST", "/schedules/legacy/trigger", TENANT_A)
    assert status == 200, body
    (run,) = (await calls.ended(TENANT_A, "legacy"))["recent_executions"]
    assert run["status"] == "Completed"  # its run's end reached the bare-keyed actor
    assert engine.summary(workflow_key(TENANT_A, run["workflow_id"])).namespace == TENANT_A
    status, listing = await calls("GET", "/schedules", TENANT_A)
    assert [s["schedule_id"] for s in listing["schedules"]] == ["legacy"]
    status, listing = await calls("GET", "/schedules", "default")
    assert [s["schedule_id"] for s in listing["schedules"]] == ["other"]
    assert (await calls("DELETE", "/schedules/legacy", TENANT_A))[0] == 200
    assert (await calls("GET", "/schedules/legacy", TENANT_A))[0] == 404
    calls.assert_no_keys()
