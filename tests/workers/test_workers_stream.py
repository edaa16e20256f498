"""``/workers/stream`` and ``/workers`` on a real aiohttp server, raw frames and the SDK."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore
from tests.workers import remote_workflows as rw
from transports import ServerConfig, create_app
from transports.worker import Worker, WorkerRefused
from transports.worker_frames import RegisteredFrame, ResultAckFrame, TaskFrame

REGISTER = {"type": "register", "namespaces": ["default"], "task_queue": rw.QUEUE,
            "activity_types": ["charge", "flaky"], "max_concurrent": 1, "node": "test"}  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open(
        SQLiteStore(tmp_path / "ws.db"), workflows=rw.WORKFLOWS, clock=ManualClock()
    )
    yield engine
    engine.shutdown()


@pytest.fixture
async def server(aiohttp_server: Any, engine: Engine) -> TestServer:
    return await aiohttp_server(create_app(engine, ServerConfig(worker_heartbeat_window_ms=5000)))


@pytest.fixture
async def client(aiohttp_client: Any, server: TestServer) -> TestClient:
    return await aiohttp_client(server)


async def register(client: TestClient, **changes: Any) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/workers/stream", headers=changes.pop("headers", {}))
    await ws.send_json({**REGISTER, **changes})
    return ws


async def frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    return await ws.receive_json(timeout=10)


async def result(engine: Engine, workflow_id: str) -> Any:
    return await asyncio.to_thread(engine.result, workflow_id, 10)


async def test_register_task_result_ack_and_duplicates(client: TestClient, engine: Engine) -> None:
    ws = await register(client)
    registered = await frame(ws)
    assert registered["type"] == "registered" and registered["heartbeat_window_ms"] == 5000
    engine.start_workflow("pay_flaky", "m", workflow_id="s1")
    task = await frame(ws)
    assert task["type"] == "task" and task["activity_type"] == "flaky" and task["attempt"] == 1
    assert task["workflow_id"] == "s1" and task["namespace"] == "default"
    (
        RegisteredFrame.model_validate(registered),
        TaskFrame.model_validate(task),
    )  # the documented shapes
    listed = await (await client.get("/workers")).json()
    assert [(w["task_queue"], w["in_flight"]) for w in listed["workers"]] == [(rw.QUEUE, 1)]
    await ws.send_json({"type": "result", "task_id": task["task_id"],
                        "error": {"kind": "retryable", "message": "try again"}})  # fmt: skip
    # The ack waits for the failure's commit, which also queues attempt 2: either may come first.
    both = {f["type"]: f for f in [await frame(ws), await frame(ws)]}
    ResultAckFrame.model_validate(ack := both["result_ack"])
    assert ack == {"type": "result_ack", "task_id": task["task_id"]}
    retry = both["task"]
    assert retry["attempt"] == 2
    history = engine.store.read_history("s1")
    assert [e.type for e in history if e.type == "ActivityFailed"] == ["ActivityFailed"]
    for _ in range(2):  # the duplicate is acked too, and changes nothing
        await ws.send_json({"type": "result", "task_id": retry["task_id"], "result": "ok"})
        assert await frame(ws) == {"type": "result_ack", "task_id": retry["task_id"]}
    assert await result(engine, "s1") == "ok"
    await ws.close()


@pytest.mark.parametrize(
    "bad",
    ['{"type": "result"}', "not json", '{"type": "teleport"}', '{"type": "heartbeat"}'],
)
async def test_a_malformed_first_frame_is_an_error_frame_then_close(
    client: TestClient, bad: str
) -> None:
    ws = await client.ws_connect("/workers/stream")
    await ws.send_str(bad)
    error = await frame(ws)
    assert error["type"] == "error" and error["error"]["code"] == "invalid_input"
    assert (await ws.receive(timeout=10)).type in {
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSED,
    }


async def test_a_malformed_frame_after_register_closes_and_loses_the_worker(
    client: TestClient, engine: Engine
) -> None:
    ws = await register(client)
    await frame(ws)
    engine.start_workflow("pay_flaky", "m", workflow_id="s2")
    first = await frame(ws)
    await ws.send_str('{"type": "result", "task_id": 5}')
    error = await frame(ws)
    assert error["error"]["code"] == "invalid_input"
    await ws.close()
    other = await register(client)
    await frame(other)
    retried = await frame(other)  # the lost attempt is retried on the other worker
    assert retried["attempt"] == 2 and retried["task_id"] != first["task_id"]
    await other.send_json({"type": "result", "task_id": retried["task_id"], "result": "x"})
    assert await result(engine, "s2") == "x"
    await other.close()


async def test_an_ungranted_namespace_is_refused(client: TestClient) -> None:
    ws = await register(client, headers={"x-aion-subject": "ops", "x-aion-namespaces": "shop"})
    error = await frame(ws)
    assert error == {
        "type": "error",
        "error": {
            "code": "namespace_denied",
            "message": "caller 'ops' is not granted namespace 'default'",
        },
    }
    await ws.close()
    listed = await (
        await client.get("/workers", headers={"x-aion-namespaces": "shop", "x-aion-subject": "ops"})
    ).json()
    assert listed == {"workers": [], "backlog": []}


async def test_workers_share_a_queue_round_robin(client: TestClient, engine: Engine) -> None:
    a, b = await register(client), await register(client)
    await frame(a), await frame(b)
    engine.start_workflow("pay_flaky", "1", workflow_id="rr1")
    engine.start_workflow("pay_flaky", "2", workflow_id="rr2")
    first, second = await frame(a), await frame(b)  # one slot each: one task each
    assert {first["workflow_id"], second["workflow_id"]} == {"rr1", "rr2"}
    for ws, task in ((a, first), (b, second)):
        await ws.send_json({"type": "result", "task_id": task["task_id"], "result": "done"})
    assert await result(engine, "rr1") == await result(engine, "rr2") == "done"
    await a.close(), await b.close()


async def test_a_task_with_no_worker_waits_until_one_registers(
    client: TestClient, engine: Engine
) -> None:
    engine.start_workflow("pay_flaky", "w", workflow_id="wait1")
    await asyncio.sleep(0.1)
    assert engine.task_queues.backlog() == {("default", rw.QUEUE): 1}
    ws = await register(client)
    await frame(ws)
    task = await frame(ws)
    await ws.send_json({"type": "result", "task_id": task["task_id"], "result": "served"})
    assert await result(engine, "wait1") == "served"
    await ws.close()


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(worker.run_async())
    try:
        yield task
    finally:
        worker.drain()
        await asyncio.wait_for(task, 20)


async def test_the_sdk_runs_sync_and_async_activities(server: TestServer, engine: Engine) -> None:
    url = str(server.make_url(""))
    worker = Worker(url, task_queue=rw.QUEUE, activities=rw.ACTIVITIES, max_concurrent=2)
    async with running(worker):
        engine.start_workflow("pay", 4, workflow_id="sdk1")
        out = await result(engine, "sdk1")
        assert [r["order"] for r in out] == [40, 41, 42]
        engine.start_workflow("pay_flaky", "again", workflow_id="sdk2")
        assert await result(engine, "sdk2") == "again"
        assert list(worker.sessions) == [url.rstrip("/")]  # a lone server: one session


async def test_the_sdk_delivers_cancel_to_a_heartbeating_activity(
    server: TestServer, engine: Engine, tmp_path: Path
) -> None:
    url = str(server.make_url(""))
    worker = Worker(url, task_queue=rw.QUEUE, activities=rw.ACTIVITIES)
    marker = tmp_path / "never"
    async with running(worker):
        engine.start_workflow("pay_held", str(marker), workflow_id="cx1")
        for _ in range(1000):
            if Path(str(marker) + ".started").exists():
                break
            await asyncio.sleep(0.01)
        engine.cancel("cx1")
        for _ in range(1000):
            if not worker.in_hand:
                break
            await asyncio.sleep(0.01)
        assert worker.in_hand == 0
        status = await asyncio.to_thread(lambda: engine.describe("cx1").summary.status)
        assert status.value.lower().startswith("cancel")


async def test_the_sdk_stops_on_a_refused_registration(server: TestServer) -> None:
    url = str(server.make_url(""))
    worker = Worker(url, task_queue=rw.QUEUE, activities=rw.ACTIVITIES, namespace="shop",
                    headers={"x-aion-subject": "ops", "x-aion-namespaces": "default"})  # fmt: skip
    with pytest.raises(WorkerRefused, match="namespace_denied"):
        await asyncio.wait_for(worker.run_async(), 20)


async def test_openapi_documents_the_worker_routes(client: TestClient) -> None:
    doc = await (await client.get("/openapi.json")).json()
    assert doc["paths"]["/workers"]["get"]["summary"] == "Connected remote workers"
    frames = doc["paths"]["/workers/stream"]["get"]["x-websocket"]
    assert {"$ref": "#/components/schemas/TaskFrame"} in frames["server_frames"]
    assert {"$ref": "#/components/schemas/RegisterFrame"} in frames["worker_frames"]


async def test_metrics_show_connected_workers_and_dispatch_latency(
    client: TestClient, engine: Engine
) -> None:
    engine.start_workflow("pay_flaky", "m", workflow_id="metered")
    ws = await register(client)
    await frame(ws)  # registered
    task = await frame(ws)
    seen = metric_samples(await (await client.get("/metrics")).text())
    assert seen["aionactors_workers_connected"] == 1
    assert seen[f'aionactors_worker_dispatch_seconds_count{{task_queue="{rw.QUEUE}"}}'] == 1
    await ws.send_json({"type": "result", "task_id": task["task_id"], "result": "ok"})
    assert await frame(ws) == {"type": "result_ack", "task_id": task["task_id"]}
    await ws.close()


def metric_samples(text: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


async def test_the_backlog_gauge_reports_zero_once_the_queue_drains(
    client: TestClient, engine: Engine
) -> None:
    backlog = f'aionactors_task_queue_backlog{{namespace="default",task_queue="{rw.QUEUE}"}}'
    engine.start_workflow("pay_flaky", "m", workflow_id="drained")
    await until(lambda: engine.task_queues.backlog().get(("default", rw.QUEUE)) == 1)
    assert metric_samples(await (await client.get("/metrics")).text())[backlog] == 1
    ws = await register(client)
    await frame(ws)  # registered
    task = await frame(ws)
    assert metric_samples(await (await client.get("/metrics")).text())[backlog] == 0
    await ws.send_json({"type": "result", "task_id": task["task_id"], "result": "ok"})
    assert await frame(ws) == {"type": "result_ack", "task_id": task["task_id"]}
    await ws.close()


async def until(condition: Any) -> None:
    """Wait (bounded) for ``condition()`` to hold: the server acts on its own loop."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


WINDOW = 5.0  # the server fixture's heartbeat window, in seconds


async def test_a_connection_silent_for_the_window_is_lost_and_its_task_retried_elsewhere(
    client: TestClient, engine: Engine
) -> None:
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    silent = await client.ws_connect("/workers/stream", autoping=False)  # a frozen process
    await silent.send_json(REGISTER)
    await frame(silent)
    engine.start_workflow("pay_flaky", "m", workflow_id="frozen")
    first = await frame(silent)
    clock.advance(WINDOW * 0.6)  # half a window of silence: the server pings
    assert (await silent.receive(timeout=10)).type == aiohttp.WSMsgType.PING
    clock.advance(WINDOW * 0.5)  # no pong, nothing else: the whole window is silent
    closing = await silent.receive(timeout=10)
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == aiohttp.WSCloseCode.GOING_AWAY and closing.extra == "worker lost"
    other = await register(client)
    await frame(other)
    retried = await frame(other)
    assert retried["attempt"] == 2 and retried["task_id"] != first["task_id"]
    failed = [e for e in engine.store.read_history("frozen") if e.type == "ActivityFailed"]
    assert [f.error.type for f in failed] == ["WorkerLost"]
    await other.send_json({"type": "result", "task_id": retried["task_id"], "result": "x"})
    assert await result(engine, "frozen") == "x"
    await other.close(), await silent.close()


async def test_silence_is_judged_per_connection_and_a_pong_is_a_sign_of_life(
    client: TestClient, server: TestServer, engine: Engine
) -> None:
    """A worker that answers pings keeps a task past the window without heartbeats; an idle
    connection that answers nothing is dropped though it held no task."""
    from transports.workers_stream import HUB

    clock = engine.clock
    assert isinstance(clock, ManualClock)
    idle = await client.ws_connect("/workers/stream", autoping=False)
    await idle.send_json({**REGISTER, "activity_types": ["refund"]})
    await frame(idle)
    busy = await client.ws_connect("/workers/stream", autoping=False)
    await busy.send_json(REGISTER)
    busy_id = (await frame(busy))["worker_id"]
    engine.start_workflow("pay_flaky", "m", workflow_id="alive")
    task = await frame(busy)
    clock.advance(WINDOW * 0.6)
    for ws in (idle, busy):
        assert (await ws.receive(timeout=10)).type == aiohttp.WSMsgType.PING
    await busy.pong()
    hub = server.app[HUB]
    await until(lambda: hub.workers[busy_id].last_seen == clock.now())
    clock.advance(WINDOW * 0.45)  # idle: a whole window quiet; busy: under half since its pong
    assert (await idle.receive(timeout=10)).type == aiohttp.WSMsgType.CLOSE
    listed = await (await client.get("/workers")).json()
    assert [(w["worker_id"], w["in_flight"]) for w in listed["workers"]] == [(busy_id, 1)]
    await busy.send_json({"type": "result", "task_id": task["task_id"], "result": "kept"})
    assert await frame(busy) == {"type": "result_ack", "task_id": task["task_id"]}
    assert await result(engine, "alive") == "kept"
    assert not [e for e in engine.store.read_history("alive") if e.type == "ActivityFailed"]
    await busy.close(), await idle.close()


async def test_workers_lists_the_backlog_of_granted_namespaces_only(
    client: TestClient, engine: Engine
) -> None:
    engine.start_workflow("pay_flaky", "m", workflow_id="queued-default")
    engine.start_workflow("pay_flaky", "m", workflow_id="queued-shop", namespace="shop")
    await until(lambda: len(engine.task_queues.backlog()) == 2)
    everything = await (await client.get("/workers")).json()
    assert everything["backlog"] == [
        {"namespace": "default", "task_queue": rw.QUEUE, "waiting": 1},
        {"namespace": "shop", "task_queue": rw.QUEUE, "waiting": 1},
    ]
    shop = {"x-aion-subject": "ops", "x-aion-namespaces": "shop"}
    granted = await (await client.get("/workers", headers=shop)).json()
    assert granted == {"workers": [], "backlog": [everything["backlog"][1]]}
    one = await (await client.get("/workers", params={"namespace": "default"})).json()
    assert one["backlog"] == [everything["backlog"][0]]
    denied = await client.get("/workers", params={"namespace": "default"}, headers=shop)
    assert denied.status == 403 and (await denied.json())["code"] == "namespace_denied"
    bad = await client.get("/workers", params={"nodes": "all"})
    assert bad.status == 400 and (await bad.json())["code"] == "invalid_input"
