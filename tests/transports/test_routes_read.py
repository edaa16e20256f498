"""POST /workflows/query, /result, /describe, /history, /list and GET /workflows, /count."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.transports import sample_workflows as s
from tests.transports.api import act, get, post, result, start
from tests.transports.conftest import open_engine
from tests.transports.support import TENANT_A, TENANT_B, tenant
from transports import ServerConfig, create_app


async def test_query_answers_with_result_or_error_in_a_200(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    status, body = await act(
        client, "query", workflow_id=workflow_id, query_name="echo", args=[1, {"a": 2}]
    )
    assert (status, body) == (200, {"result": [1, {"a": 2}]})
    status, body = await act(client, "query", workflow_id=workflow_id, query_name="nope")
    assert status == 200 and body["error"]["code"] == "unknown_query"
    assert body["error"]["error_type"] == "UnknownQuery"
    status, body = await act(client, "query", workflow_id=workflow_id, query_name="explode")
    assert status == 200 and body["error"]["code"] == "query_failed"
    assert "the query handler broke" in body["error"]["message"]


async def test_query_of_a_finished_workflow_is_not_running_in_a_200(client) -> None:
    workflow_id = (await start(client, "greeter", input="x"))["workflow_id"]
    await result(client, workflow_id)
    status, body = await act(client, "query", workflow_id=workflow_id, query_name="echo")
    assert status == 200 and body["error"]["code"] == "not_running"


async def test_query_timeout_is_a_200_error(tmp_path, aiohttp_client) -> None:
    engine = open_engine(tmp_path / "slow.db", query_timeout=0.2)
    try:
        client = await aiohttp_client(create_app(engine, ServerConfig()))
        workflow_id = (await start(client))["workflow_id"]
        status, body = await act(client, "query", workflow_id=workflow_id, query_name="slow")
        assert status == 200
        assert body["error"]["code"] == "query_timeout"
        assert body["error"]["error_type"] == "QueryTimeout"
        await client.close()
    finally:
        s.RELEASE_SLOW_QUERY.set()
        engine.shutdown()
        s.RELEASE_SLOW_QUERY.clear()


async def test_result_without_wait_reports_the_current_status(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    assert await result(client, workflow_id, wait_ms=0) == {"status": "Running"}
    assert await result(client, workflow_id, wait_ms=50) == {"status": "Running"}


async def test_result_waits_for_the_workflow_to_finish(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    waiting = asyncio.create_task(result(client, workflow_id, wait_ms=20_000))
    await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload=[1, 2])
    assert await asyncio.wait_for(waiting, 20) == {"status": "Completed", "result": [1, 2]}


async def test_result_of_a_failed_workflow_carries_the_error(client) -> None:
    workflow_id = (await start(client, "failing", input="out of stock"))["workflow_id"]
    outcome = await result(client, workflow_id)
    assert outcome["status"] == "Failed"
    assert outcome["error"]["error_type"] == "WorkflowFailed"
    assert "out of stock" in outcome["error"]["message"]


async def test_result_with_an_activity(client) -> None:
    workflow_id = (await start(client, "shouter", input="ann"))["workflow_id"]
    assert await result(client, workflow_id) == {"status": "Completed", "result": "HELLO, ANN"}


async def test_describe_with_and_without_history(client) -> None:
    started = await start(client)
    workflow_id = started["workflow_id"]
    status, body = await act(client, "describe", workflow_id=workflow_id)
    assert status == 200
    assert set(body) == {
        "summary",
        "pending_activities",
        "pending_timers",
        "runs",
        "resident",
        "problem",
    }
    assert body["problem"] is None
    assert body["summary"]["status"] == "Running"
    assert body["summary"]["workflow_type"] == "collector"
    assert [run["run_id"] for run in body["runs"]] == [started["run_id"]]
    status, body = await act(
        client, "describe", workflow_id=workflow_id, include_history=True, run_id=started["run_id"]
    )
    assert [e["type"] for e in body["history"]] == ["WorkflowStarted", "SearchAttributesUpdated"]
    status, body = await act(client, "describe", workflow_id=workflow_id, run_id="other")
    assert status == 404 and body["code"] == "not_found"


async def test_history_pages_through_a_range(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    for n in range(5):
        await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=n)
    status, body = await act(client, "history", workflow_id=workflow_id, limit=3)
    assert status == 200
    assert [e["seq"] for e in body["events"]] == [1, 2, 3]
    assert body["next_from_seq"] == 4 and body["head_seq"] == 7
    status, body = await act(client, "history", workflow_id=workflow_id, from_seq=4, limit=3)
    assert [e["seq"] for e in body["events"]] == [4, 5, 6] and body["next_from_seq"] == 7
    status, body = await act(client, "history", workflow_id=workflow_id, from_seq=7)
    assert [e["seq"] for e in body["events"]] == [7] and body["next_from_seq"] is None
    status, body = await act(client, "history", workflow_id=workflow_id, from_seq=50)
    assert body == {"events": [], "next_from_seq": None, "head_seq": 7}
    assert body["head_seq"] == 7


GOLD = {"op": "equals", "name": "aion.task_queue", "value": {"type": "String", "data": "gold"}}


@pytest.fixture
async def population(client) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"done": [], "open": [], "foreign": []}
    for n in range(3):
        ids["done"].append((await start(client, "greeter", input=str(n)))["workflow_id"])
    for _ in range(2):
        ids["open"].append((await start(client, task_queue="gold"))["workflow_id"])
    ids["foreign"].append((await start(client, "greeter", TENANT_B, input="b"))["workflow_id"])
    for workflow_id in ids["done"]:
        await result(client, workflow_id)
    await result(client, ids["foreign"][0], namespace=TENANT_B)
    return ids


async def test_list_is_scoped_to_the_namespace_and_filters(client, population) -> None:
    status, body = await act(client, "list")
    assert status == 200
    listed = {w["workflow_id"] for w in body["workflows"]}
    assert listed == set(population["done"]) | set(population["open"])
    status, body = await act(client, "list", status="Completed")
    assert {w["workflow_id"] for w in body["workflows"]} == set(population["done"])
    status, body = await act(
        client,
        "list",
        search_attributes=[GOLD],
    )
    assert {w["workflow_id"] for w in body["workflows"]} == set(population["open"])


async def test_list_pages_with_tokens(client, population) -> None:
    seen: list[str] = []
    token = None
    while True:
        fields = {"limit": 2} | ({"page_token": token} if token else {})
        status, body = await act(client, "list", **fields)
        seen += [w["workflow_id"] for w in body["workflows"]]
        token = body["next_page_token"]
        if token is None:
            break
    assert sorted(seen) == sorted(population["done"] + population["open"])
    status, body = await act(client, "list", page_token="garbage")
    assert status == 400 and body["code"] == "invalid_input"


async def test_get_workflows_and_count_take_a_query_string(client, population) -> None:
    headers = tenant(TENANT_A)
    status, body = await get(
        client, "/workflows", {"namespace": TENANT_A, "status": "completed"}, headers
    )
    assert status == 200
    assert {w["workflow_id"] for w in body["workflows"]} == set(population["done"])
    predicates = [GOLD]
    status, body = await get(
        client,
        "/workflows/count",
        {"namespace": TENANT_A, "search_attributes": json.dumps(predicates)},
        headers,
    )
    assert (status, body) == (200, {"count": 2})
    status, body = await get(client, "/workflows/count", {"namespace": TENANT_A}, headers)
    assert body == {"count": 5}
    status, body = await get(
        client, "/workflows/count", {"namespace": TENANT_A, "status": "running"}, headers
    )
    assert body == {"count": 2}


async def test_list_and_count_errors(client) -> None:
    headers = tenant(TENANT_A)
    status, body = await get(client, "/workflows", {"namespace": TENANT_B}, headers)
    assert status == 403 and body["code"] == "namespace_denied"
    status, body = await get(client, "/workflows/count", {"bogus": "1"}, headers)
    assert status == 400 and "unknown field 'bogus'" in body["message"]
    status, body = await get(client, "/workflows", {"search_attributes": "[oops"}, headers)
    assert status == 400 and "search_attributes" in body["message"]
    status, body = await get(client, "/workflows", {"limit": "many"}, headers)
    assert status == 400 and "field 'limit'" in body["message"]
    status, body = await post(client, "/workflows/list", {"namespace": TENANT_B}, headers)
    assert status == 403


async def test_a_workflow_started_with_search_attributes_keeps_running(client) -> None:
    workflow_id = (await start(client, search_attributes={"tier": "gold"}))["workflow_id"]
    await act(client, "signal", workflow_id=workflow_id, signal_name="finish", payload="ok")
    assert await result(client, workflow_id) == {"status": "Completed", "result": "ok"}
