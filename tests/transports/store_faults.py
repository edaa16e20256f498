"""What every store-fault test checks, whatever the fault (locked, full, read-only).

During the fault: a start answers 503 ``unavailable`` with Retry-After (never a 500),
the message and the log say what the store said, and readiness is not ready. After it
clears: readiness is back, what was acknowledged is all there, what was refused left
nothing behind, and new writes are taken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.transports.api import get, post


async def start(client: TestClient, workflow_id: str) -> tuple[int, dict[str, Any], Any]:
    response = await client.post(
        "/workflows/start", json={"workflow_type": "collector", "workflow_id": workflow_id}
    )
    return response.status, await response.json(), response.headers


async def assert_refused(
    client: TestClient, workflow_id: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A start during the fault: 503 unavailable, Retry-After, and the store's words."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transports.errors"):
        status, body, headers = await start(client, workflow_id)
    assert status == 503, body
    assert body["code"] == "unavailable" and body["error_type"] == "StoreUnavailable", body
    assert said in body["message"].lower(), body
    assert headers["Retry-After"] == "1"
    assert any(said in r.getMessage().lower() for r in caplog.records), caplog.text


async def assert_not_ready(client: TestClient, said: str) -> None:
    status, body = await get(client, "/health/ready")
    assert status == 503 and body["code"] == "unavailable", body
    assert "commit a write" in body["message"] and said in body["message"].lower(), body


async def ready_again(client: TestClient, attempts: int = 20) -> None:
    """Readiness comes back once the fault is gone (a pool may first drop dead connections:
    each such attempt is a 503 too, never a 500)."""
    for _ in range(attempts):
        status, body = await get(client, "/health/ready")
        if status == 200:
            return
        assert status == 503 and body["code"] == "unavailable", body
    raise AssertionError(f"not ready after the fault cleared: {body}")


async def assert_intact(
    client: TestClient, acknowledged: Iterable[str], refused: Iterable[str]
) -> None:
    """Every acknowledged start is whole (contiguous history, Running); no refused one left
    an event or a visibility row; and a new start is taken."""
    acknowledged = list(acknowledged)
    for workflow_id in acknowledged:
        status, body = await post(client, "/workflows/describe", {"workflow_id": workflow_id})
        assert status == 200 and body["summary"]["status"] == "Running", body
        status, body = await post(client, "/workflows/history", {"workflow_id": workflow_id})
        assert status == 200, body
        seqs = [event["seq"] for event in body["events"]]
        assert seqs == list(range(1, len(seqs) + 1)) and body["events"][0]["type"] == (
            "WorkflowStarted"
        ), body
    for workflow_id in refused:
        status, body = await post(client, "/workflows/describe", {"workflow_id": workflow_id})
        assert status == 404, body
    status, body = await get(client, "/workflows", {"limit": "1000"})
    assert status == 200, body
    listed = {row["workflow_id"] for row in body["workflows"]}
    assert listed == set(acknowledged), listed ^ set(acknowledged)
    status, body, _ = await start(client, "after-the-fault")
    assert status == 200, body
