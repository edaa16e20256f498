"""Issue 13, defect 4: a start's answer never depends on another namespace's workflows.

Each namespace has its own workflow ids (PROTOCOL.md, "Identity and namespaces"): the
same id started in two namespaces names two workflows, and every reply, stream frame and
error shows ids, never the engine's namespaced keys.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from aionactors.core.workflow_keys import KEY_SEPARATOR
from aionactors.engine import engine as engine_module
from tests.transports.api import act, post, result, start
from tests.transports.support import TENANT_A, TENANT_B, tenant
from transports.state import STATE

FINISH = {"signal_name": "finish", "payload": "done"}


async def raw(client: TestClient, route: str, namespace: str, **fields: Any) -> tuple[int, str]:
    """POST /workflows/<route>; the reply's text, to look for keys in all of it."""
    response = await client.post(
        f"/workflows/{route}",
        json={"namespace": namespace, **fields},
        headers=tenant(namespace),
    )
    return response.status, await response.text()


def shape(reply: dict[str, str]) -> set[str]:
    return set(reply)


async def test_the_answer_to_a_start_does_not_depend_on_another_namespace(client) -> None:
    await start(client, namespace=TENANT_B, workflow_id="secret")  # running in tenant-b
    await start(client, "greeter", namespace=TENANT_B, workflow_id="finished", input="b")
    assert (await result(client, "finished", namespace=TENANT_B))["status"] == "Completed"
    answers = {
        workflow_id: await start(client, namespace=TENANT_A, workflow_id=workflow_id)
        for workflow_id in ("secret", "finished", "fresh")
    }
    for workflow_id, answer in answers.items():  # taken elsewhere or not: the same answer
        assert shape(answer) == {"workflow_id", "run_id"}
        assert answer["workflow_id"] == workflow_id
    # ...and each is tenant-a's own workflow, apart from tenant-b's of the same id
    for workflow_id in ("secret", "finished", "fresh"):
        status, _ = await act(client, "signal", TENANT_A, workflow_id=workflow_id, **FINISH)
        assert status == 200
        assert await result(client, workflow_id, namespace=TENANT_A) == {
            "status": "Completed",
            "result": "done",
        }
    status, body = await act(client, "describe", TENANT_B, workflow_id="secret")
    assert status == 200 and body["summary"]["status"] == "Running"  # untouched
    assert await result(client, "finished", namespace=TENANT_B) == {
        "status": "Completed",
        "result": "hello, b",
    }


async def test_replies_and_frames_show_ids_never_keys(client, connect) -> None:
    await start(client, namespace=TENANT_B, workflow_id="order-7")
    await start(client, namespace=TENANT_A, workflow_id="order-7")
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, "order-7", resume_from_seq=1)
    firehose = await connect(tenant(TENANT_A))
    await firehose.subscribe({"firehose": {"namespace": TENANT_A, "resume_from_position": 1}})
    await act(client, "signal", TENANT_A, workflow_id="order-7", **FINISH)
    for route, fields in (
        ("describe", {"workflow_id": "order-7", "include_history": True}),
        ("history", {"workflow_id": "order-7"}),
        ("result", {"workflow_id": "order-7", "wait_ms": 5000}),
        ("list", {}),
    ):
        status, text = await raw(client, route, TENANT_A, **fields)
        assert status == 200, text
        assert KEY_SEPARATOR not in json.loads(text).__repr__()
        assert "\\u001f" not in text and KEY_SEPARATOR not in text
    status, body = await act(client, "list", TENANT_A)
    assert [s["workflow_id"] for s in body["workflows"]] == ["order-7"]
    for subscriber in (stream, firehose):
        frames = [await subscriber.next_event() for _ in range(4)]
        assert {f["event"]["workflow_id"] for f in frames} == {"order-7"}
        assert {f["namespace"] for f in frames} == {TENANT_A}


async def test_an_id_holding_the_key_separator_is_invalid_input(client) -> None:
    engine = client.server.app[STATE].engine
    for fields in (
        {"namespace": TENANT_A, "workflow_id": f"a{KEY_SEPARATOR}b"},
        {"namespace": f"{TENANT_A}{KEY_SEPARATOR}", "workflow_id": "x"},
    ):
        status, body = await post(
            client,
            "/workflows/start",
            {"workflow_type": "collector", **fields},
            {},  # the local operator: every namespace is granted
        )
        assert status == 400 and body["code"] == "invalid_input", body
        named = "workflow_id" if "workflow_id" in body["message"] else "namespace"
        assert named in body["message"]
    assert engine.count_workflows() == 0  # nothing recorded


async def test_a_workflow_stored_before_ids_were_per_namespace_stays_reachable(
    client, monkeypatch
) -> None:
    # An earlier version keyed every namespace's workflows by their bare ids.
    with monkeypatch.context() as old_version:
        old_version.setattr(engine_module, "workflow_key", lambda namespace, wid: wid)
        await start(client, namespace=TENANT_A, workflow_id="legacy")
    engine = client.server.app[STATE].engine
    assert engine.summary("legacy").namespace == TENANT_A  # under its bare id
    status, body = await post(
        client,
        "/workflows/start",
        {"namespace": TENANT_A, "workflow_type": "collector", "workflow_id": "legacy"},
        tenant(TENANT_A),
    )
    assert status == 409 and body["code"] == "already_exists"  # one id, one running workflow
    status, _ = await act(client, "describe", TENANT_B, workflow_id="legacy")
    assert status == 404  # still tenant-a's alone
    status, _ = await act(client, "signal", TENANT_A, workflow_id="legacy", **FINISH)
    assert status == 200
    assert await result(client, "legacy", namespace=TENANT_A) == {
        "status": "Completed",
        "result": "done",
    }
