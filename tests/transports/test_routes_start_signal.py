"""POST /workflows/start, /signal, /cancel: happy paths, namespaces, anti-leak, terminal runs."""

from __future__ import annotations

from tests.transports.api import act, post, result, start
from tests.transports.support import TENANT_A, TENANT_B, tenant


async def test_start_returns_ids_and_runs_the_workflow(client) -> None:
    started = await start(client, "greeter", input="bob")
    assert set(started) == {"workflow_id", "run_id"}
    assert await result(client, started["workflow_id"]) == {
        "status": "Completed",
        "result": "hello, bob",
    }


async def test_start_with_own_id_search_attributes_and_task_queue(client) -> None:
    started = await start(
        client,
        "collector",
        workflow_id="order-42",
        search_attributes={
            "customer": "acme",
            "priority": 3,
            "due": {"type": "Datetime", "data": "2026-01-01T00:00:00Z"},
        },
        task_queue="fast",
    )
    assert started["workflow_id"] == "order-42"
    status, body = await act(client, "describe", workflow_id="order-42")
    assert status == 200
    attributes = body["summary"]["search_attributes"]
    assert attributes["customer"] == {"type": "String", "data": "acme"}
    assert attributes["priority"] == {"type": "Int", "data": 3}
    assert attributes["due"]["type"] == "Datetime"
    assert attributes["aion.task_queue"] == {"type": "String", "data": "fast"}
    assert body["summary"]["namespace"] == TENANT_A


async def test_start_in_a_namespace_not_granted_is_denied(client, engine) -> None:
    status, body = await post(
        client,
        "/workflows/start",
        {"namespace": TENANT_B, "workflow_type": "greeter"},
        tenant(TENANT_A),
    )
    assert status == 403 and body["code"] == "namespace_denied"
    assert engine.count_workflows() == 0


async def test_start_of_unknown_type_is_not_found(client) -> None:
    status, body = await act(client, "start", workflow_type="nope")
    assert status == 404
    assert body == {
        "code": "not_found",
        "message": "workflow type 'nope' is not registered",
        "error_type": "WorkflowTypeNotFound",
    }


async def test_start_of_a_running_id_is_already_exists(client) -> None:
    await start(client, workflow_id="dup")
    status, body = await act(client, "start", workflow_type="collector", workflow_id="dup")
    assert status == 409 and body["code"] == "already_exists"


async def test_a_finished_id_restarts_in_its_namespace(client) -> None:
    first = await start(client, "greeter", workflow_id="again", input="one")
    assert (await result(client, "again"))["status"] == "Completed"
    second = await start(client, "greeter", workflow_id="again", input="two")
    assert second["run_id"] != first["run_id"]
    assert await result(client, "again") == {"status": "Completed", "result": "hello, two"}
    old = await result(client, "again", run_id=first["run_id"])
    assert old == {"status": "Completed", "result": "hello, one"}


async def test_signal_is_recorded_and_delivered(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    status, body = await act(
        client, "signal", workflow_id=workflow_id, signal_name="note", payload={"n": 1}
    )
    assert (status, body) == (200, {})
    status, body = await act(client, "history", workflow_id=workflow_id)
    assert [e["type"] for e in body["events"]][-1] == "SignalReceived"
    assert body["events"][-1]["payload"] == {"n": 1}
    status, body = await act(client, "query", workflow_id=workflow_id, query_name="notes_so_far")
    assert body == {"result": [{"n": 1}]}


async def test_foreign_and_missing_workflows_look_identical(client) -> None:
    foreign = (await start(client, namespace=TENANT_B, workflow_id="secret"))["workflow_id"]
    seen = {}
    for workflow_id in (foreign, "missing"):
        for route, extra in (
            ("signal", {"signal_name": "note"}),
            ("query", {"query_name": "notes_so_far"}),
            ("cancel", {}),
            ("result", {}),
            ("describe", {}),
            ("history", {}),
        ):
            status, body = await act(client, route, workflow_id=workflow_id, **extra)
            assert status == 404, (route, body)
            assert body["code"] == "not_found" and body["error_type"] == "WorkflowNotFound"
            seen.setdefault(route, []).append(body["message"].replace(workflow_id, "<id>"))
    for route, messages in seen.items():
        assert messages[0] == messages[1], route


async def test_acting_in_a_namespace_not_granted_is_denied(client) -> None:
    workflow_id = (await start(client, namespace=TENANT_B))["workflow_id"]
    status, body = await post(
        client,
        "/workflows/signal",
        {"namespace": TENANT_B, "workflow_id": workflow_id, "signal_name": "note"},
        tenant(TENANT_A),
    )
    assert status == 403 and body["code"] == "namespace_denied"


async def test_signal_and_cancel_of_a_finished_workflow_are_not_running(client) -> None:
    workflow_id = (await start(client, "greeter", input="x"))["workflow_id"]
    await result(client, workflow_id)
    for route, extra in (("signal", {"signal_name": "note"}), ("cancel", {})):
        status, body = await act(client, route, workflow_id=workflow_id, **extra)
        assert status == 412, body
        assert body["code"] == "not_running" and body["error_type"] == "WorkflowTerminal"


async def test_signal_to_an_earlier_run_is_not_running_and_an_unknown_run_not_found(
    client,
) -> None:
    first = await start(client, "greeter", workflow_id="runs", input="a")
    await result(client, "runs")
    await start(client, "collector", workflow_id="runs")
    status, body = await act(
        client, "signal", workflow_id="runs", run_id=first["run_id"], signal_name="note"
    )
    assert status == 412 and body["code"] == "not_running"
    status, body = await act(
        client, "signal", workflow_id="runs", run_id="no-such-run", signal_name="note"
    )
    assert status == 404 and body["code"] == "not_found"


async def test_cancel_records_cancellation(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    status, body = await act(client, "cancel", workflow_id=workflow_id, reason="changed my mind")
    assert (status, body) == (200, {})
    outcome = await result(client, workflow_id)
    assert outcome["status"] == "Cancelled"
    assert outcome["error"]["error_type"] == "WorkflowCancelled"
    assert "changed my mind" in outcome["error"]["message"]


async def test_pause_resume_and_reopen(client) -> None:
    workflow_id = (await start(client))["workflow_id"]
    status, body = await act(client, "pause", workflow_id=workflow_id, reason="maintenance")
    assert status == 200, body
    assert body == {"workflow_id": workflow_id, "run_id": body["run_id"], "status": "Paused"}
    status, body = await act(client, "pause", workflow_id=workflow_id)
    assert status == 409 and body["code"] == "invalid_state"
    status, history = await act(client, "history", workflow_id=workflow_id)
    paused = history["events"][-1]
    assert paused["type"] == "WorkflowPaused" and paused["operator"] == "alice"
    status, body = await act(client, "resume", workflow_id=workflow_id)
    assert (status, body["status"]) == (200, "Running")
    status, body = await act(client, "reopen", workflow_id=workflow_id)
    assert status == 409 and body["code"] == "invalid_state"

    failed = (await start(client, "failing", input="flaky"))["workflow_id"]
    assert (await result(client, failed))["status"] == "Failed"
    status, body = await act(client, "reopen", workflow_id=failed)
    assert (status, body["status"]) == (200, "Running")
    status, body = await act(client, "history", workflow_id=failed)
    assert "WorkflowReopened" in [e["type"] for e in body["events"]]


async def test_lifecycle_routes_guard_namespaces_and_finished_runs(client) -> None:
    foreign = (await start(client, namespace=TENANT_B))["workflow_id"]
    for action in ("pause", "resume", "reopen"):
        status, body = await act(client, action, workflow_id=foreign)
        assert status == 404 and body["error_type"] == "WorkflowNotFound"
    done = (await start(client, "greeter", input="x"))["workflow_id"]
    await result(client, done)
    status, body = await act(client, "pause", workflow_id=done)
    assert status == 412 and body["code"] == "not_running"
    status, body = await act(client, "reopen", workflow_id=done)
    assert status == 409 and body["code"] == "invalid_state"


async def test_a_parent_can_be_named_only_between_cluster_nodes(client, engine) -> None:
    """``parent_workflow_id`` is how a node starts a child on another node's shard; a
    server of its own has no other node, so it refuses the field and starts nothing."""
    status, body = await post(
        client, "/workflows/start",
        {"namespace": TENANT_A, "workflow_type": "greeter", "parent_workflow_id": "p"},
        tenant(TENANT_A),
    )  # fmt: skip
    assert status == 400 and "parent_workflow_id" in body["message"]
    assert engine.count_workflows() == 0
