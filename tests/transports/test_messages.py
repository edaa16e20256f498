"""Update, signal-with-start, typed payloads and handles through a real server and real clients."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from tests.engine import typed_workflows as t
from tests.transports.processes import ROOT
from tests.transports.support import TENANT_A, TENANT_B, tenant
from transports import ServerConfig, create_app
from transports.client import AionClient, ClientError

WAIT = 20.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def typed_engine(tmp_path: Path, clock: ManualClock) -> Iterator[Engine]:
    engine = t.open_typed_engine(tmp_path / "messages.db", clock)
    yield engine
    engine.shutdown()


@pytest.fixture
async def url(aiohttp_server: Any, typed_engine: Engine) -> str:
    server: TestServer = await aiohttp_server(create_app(typed_engine, ServerConfig()))
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def alice(url: str) -> AsyncIterator[AionClient]:
    async with AionClient(url, namespace=TENANT_A, headers=tenant(TENANT_A)) as client:
        yield client


async def raw(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + path, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def head(client: AionClient, workflow_id: str) -> int:
    return (await client.history(workflow_id))["head_seq"]


async def test_update_over_http_answers_after_recording(alice: AionClient) -> None:
    await alice.start("cart", workflow_id="cart-h")
    assert await alice.update("cart-h", "add", "apple") == 1
    events = (await alice.history("cart-h"))["events"]
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["UpdateAccepted", "UpdateCompleted"]
    assert events[-2]["args"] == ["apple"] and events[-1]["result"] == 1
    assert events[-2]["update_id"] == events[-1]["update_id"]


async def test_refused_updates_are_400_and_record_nothing(alice: AionClient, url: str) -> None:
    await alice.start("cart", workflow_id="cart-r")
    await alice.update("cart-r", "add", "apple")
    before = await head(alice, "cart-r")
    with pytest.raises(ClientError) as rejected:
        await alice.update("cart-r", "add", "apple")
    assert (rejected.value.status, rejected.value.code, rejected.value.error_type) == (
        400,
        "invalid_input",
        "UpdateRejected",
    )
    assert "already in the cart" in rejected.value.message
    with pytest.raises(ClientError) as unknown:
        await alice.update("cart-r", "nope")
    assert (unknown.value.status, unknown.value.error_type) == (400, "UnknownUpdate")
    status, body = await raw(
        url,
        "/workflows/update",
        {"namespace": TENANT_A, "workflow_id": "cart-r", "update": "add"},
        tenant(TENANT_A),
    )
    assert status == 400 and "update_name" in body["message"] and "'update'" in body["message"]
    assert await head(alice, "cart-r") == before


async def test_failed_update_is_an_error_answer_and_terminal_workflows_are_412(
    alice: AionClient,
) -> None:
    await alice.start("cart", workflow_id="cart-f")
    with pytest.raises(ClientError) as failed:
        await alice.update("cart-f", "explode")
    assert (failed.value.code, failed.value.error_type) == ("update_failed", "UpdateFailed")
    assert await alice.update("cart-f", "close") == 0
    assert (await alice.result("cart-f"))["status"] == "Completed"
    with pytest.raises(ClientError) as late:
        await alice.update("cart-f", "add", "x")
    assert (late.value.status, late.value.code) == (412, "not_running")


async def test_update_wait_ms_expires_with_408_and_the_update_still_completes(
    alice: AionClient, clock: ManualClock, typed_engine: Engine
) -> None:
    await alice.start("cart", workflow_id="cart-w")
    with pytest.raises(ClientError) as waited:
        await alice.update("cart-w", "reserve", "z", wait_ms=50)
    assert (waited.value.status, waited.value.error_type) == (408, "UpdateTimeout")
    clock.advance(timedelta(minutes=1))
    handle = alice.get_handle("cart-w")
    for _ in range(200):  # bounded: the timer fires on the engine's threads
        if await handle.query("count") == 1:
            break
        await asyncio.sleep(0.02)
    assert await handle.query("count") == 1


async def test_async_update_over_http_awaits_activity_and_timer(
    alice: AionClient, clock: ManualClock, typed_engine: Engine
) -> None:
    await alice.start("cart", workflow_id="cart-a")
    answer = asyncio.create_task(alice.update("cart-a", "reserve", "x"))
    for _ in range(200):
        kinds = [e["type"] for e in (await alice.history("cart-a"))["events"]]
        if "TimerStarted" in kinds:
            break
        await asyncio.sleep(0.02)
    assert not answer.done()
    clock.advance(timedelta(minutes=1))
    assert await asyncio.wait_for(answer, WAIT) == "reserved:x"


async def test_updates_respect_namespaces(url: str, alice: AionClient) -> None:
    await alice.start("cart", workflow_id="cart-ns")
    body = {"namespace": TENANT_A, "workflow_id": "cart-ns", "update_name": "add", "args": ["a"]}
    status, reply = await raw(url, "/workflows/update", {**body, "namespace": TENANT_B},
                              tenant(TENANT_B))  # fmt: skip
    assert (status, reply["code"]) == (404, "not_found")
    status, missing = await raw(
        url, "/workflows/update", {**body, "workflow_id": "nope"}, tenant(TENANT_A)
    )
    assert (status, missing["code"]) == (404, "not_found")
    assert reply["message"].replace("cart-ns", "nope") == missing["message"]
    status, reply = await raw(url, "/workflows/update", body, tenant(TENANT_B))
    assert (status, reply["code"]) == (403, "namespace_denied")
    assert await head(alice, "cart-ns") == 2


async def test_signal_with_start_over_http(alice: AionClient, url: str) -> None:
    first = await alice.signal_with_start("inbox", "inbox-h", "message", {"n": 1}, input=2)
    assert first["started"] is True and first["workflow_id"] == "inbox-h"
    events = (await alice.history("inbox-h"))["events"]
    assert [e["type"] for e in events] == [
        "WorkflowStarted",
        "SearchAttributesUpdated",
        "SignalReceived",
    ]
    assert events[0]["recorded_at"] == events[2]["recorded_at"]  # one append
    second = await alice.signal_with_start("inbox", "inbox-h", "message", {"n": 2}, input=9)
    assert second == {"workflow_id": "inbox-h", "run_id": first["run_id"], "started": False}
    assert (await alice.result("inbox-h"))["result"] == [{"n": 1}, {"n": 2}]
    body = {"namespace": TENANT_B, "workflow_type": "inbox", "workflow_id": "inbox-h",
            "signal_name": "message", "input": 1}  # fmt: skip
    status, reply = await raw(url, "/workflows/signal_with_start", body, tenant(TENANT_B))
    assert (status, reply["workflow_id"], reply["started"]) == (200, "inbox-h", True)  # its own
    status, reply = await raw(url, "/workflows/signal_with_start", body, tenant(TENANT_A))
    assert (status, reply["code"]) == (403, "namespace_denied")
    status, reply = await raw(
        url, "/workflows/signal_with_start", {**body, "namespace": TENANT_A, "signal": "x"},
        tenant(TENANT_A),
    )  # fmt: skip
    assert status == 400 and "unknown field 'signal'" in reply["message"]


async def test_typed_payloads_are_checked_at_the_door(alice: AionClient) -> None:
    with pytest.raises(ClientError) as refused:
        await alice.start("typed-checkout", {"id": 1, "lines": [{"sku": "a"}]}, workflow_id="tc")
    assert refused.value.status == 400 and "field 'lines.0.qty'" in refused.value.message
    with pytest.raises(ClientError):
        await alice.history("tc")  # nothing was recorded: the workflow does not exist
    order = t.Order(id=3, lines=[t.Line(sku="a", qty=2)])
    await alice.start("typed-checkout", order, workflow_id="tc")  # a model, sent as JSON
    with pytest.raises(ClientError) as bad_signal:
        await alice.signal("tc", "address_known", {"street": "s"})
    assert bad_signal.value.status == 400 and "field 'city'" in bad_signal.value.message
    assert await alice.update("tc", "add_lines", [t.Line(sku="b", qty=1)]) == 1
    await alice.signal("tc", "address_known", t.Address("s", "c"))
    handle = alice.get_handle("tc", result_type=t.Receipt)
    assert await handle.result() == t.Receipt(order_id=3, total_qty=3, size=t.Size.SMALL)


async def test_client_handle_covers_every_call(alice: AionClient) -> None:
    started = await alice.start("cart", workflow_id="cart-handle")
    handle = alice.get_handle("cart-handle")
    assert await handle.update("add", "a") == 1
    await handle.signal("add_silently", "b")
    assert await handle.query("count") == 2
    description = await handle.describe()
    assert description["summary"]["run_id"] == started["run_id"]
    pinned = alice.get_handle("cart-handle", started["run_id"])
    assert await pinned.update("add", "c") == 3
    await handle.cancel("no longer needed")
    with pytest.raises(ClientError) as cancelled:
        await handle.result()
    assert cancelled.value.error_type == "WorkflowCancelled"
    with pytest.raises(ClientError) as running:
        await alice.get_handle((await alice.start("cart"))["workflow_id"]).result(wait_ms=0)
    assert running.value.code == "query_timeout"


async def test_openapi_documents_both_routes(url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url + "/openapi.json") as response,
    ):
        document = await response.json()
    update = document["paths"]["/workflows/update"]["post"]
    assert {"200", "400", "403", "404", "408", "412"} <= set(update["responses"])
    sws = document["paths"]["/workflows/signal_with_start"]["post"]
    assert {"200", "400", "403", "409", "503"} <= set(sws["responses"])
    schemas = document["components"]["schemas"]
    assert set(schemas["UpdateRequest"]["required"]) == {"workflow_id", "update_name"}
    assert set(schemas["SignalWithStartRequest"]["required"]) == {
        "workflow_type",
        "workflow_id",
        "signal_name",
    }
    assert schemas["SignalWithStartResponse"]["properties"]["started"]["type"] == "boolean"


async def cli(url: str, *args: str) -> tuple[int, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aionactors.cli", "workflow", "--server", url,
        "--namespace", TENANT_A, "--json", *args,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    text = out if process.returncode == 0 else err
    return process.returncode or 0, json.loads(text)


async def test_cli_verbs_update_and_signal_with_start(url: str, alice: AionClient) -> None:
    code, reply = await cli(url, "signal-with-start", "inbox", "inbox-cli", "message",
                            "--payload", '{"n": 1}', "--input", "1")  # fmt: skip
    assert code == 0 and reply["started"] is True and reply["workflow_id"] == "inbox-cli"
    assert (await alice.result("inbox-cli"))["result"] == [{"n": 1}]
    await alice.start("cart", workflow_id="cart-cli")
    code, reply = await cli(url, "update", "cart-cli", "add", "--args", '["apple"]')
    assert (code, reply) == (0, {"result": 1})
    code, reply = await cli(url, "update", "cart-cli", "add", "--args", '"apple"')
    assert code == 1 and reply["error"]["error_type"] == "UpdateRejected"


async def test_updates_survive_a_server_restart(
    aiohttp_server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "restart.db"
    first = t.open_typed_engine(path, clock)
    server = await aiohttp_server(create_app(first, ServerConfig()))
    async with AionClient(str(server.make_url("")).rstrip("/")) as client:
        await client.start("cart", workflow_id="cart-restart")
        assert await client.update("cart-restart", "add", "apple") == 1
        assert await client.update("cart-restart", "add", "pear") == 2
        before = (await client.history("cart-restart"))["events"]
    await server.close()
    first.shutdown()
    second = t.open_typed_engine(path, clock)
    try:
        server = await aiohttp_server(create_app(second, ServerConfig()))
        async with AionClient(str(server.make_url("")).rstrip("/")) as client:
            assert (await client.history("cart-restart"))["events"] == before
            assert await client.query("cart-restart", "count") == 2
            assert await client.update("cart-restart", "close") == 2
            assert (await client.result("cart-restart"))["result"] == ["apple", "pear"]
        await server.close()
    finally:
        second.shutdown()
