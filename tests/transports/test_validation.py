"""Malformed JSON, unknown fields, wrong types and oversize bodies are invalid_input (413 for
size) naming the problem, on every POST route, and never reach the engine."""

from __future__ import annotations

import pytest

from tests.transports.api import post, start
from tests.transports.support import TENANT_A, tenant

POST_ROUTES = {
    "/workflows/start": {"workflow_type": "greeter"},
    "/workflows/signal": {"workflow_id": "w", "signal_name": "note"},
    "/workflows/query": {"workflow_id": "w", "query_name": "notes_so_far"},
    "/workflows/cancel": {"workflow_id": "w"},
    "/workflows/result": {"workflow_id": "w"},
    "/workflows/describe": {"workflow_id": "w"},
    "/workflows/history": {"workflow_id": "w"},
    "/workflows/list": {},
}
WRONG_TYPES = {
    "/workflows/start": ("workflow_id", 42),
    "/workflows/signal": ("signal_name", ["note"]),
    "/workflows/query": ("args", {"not": "a list"}),
    "/workflows/cancel": ("reason", 7),
    "/workflows/result": ("wait_ms", "100"),
    "/workflows/describe": ("include_history", "yes"),
    "/workflows/history": ("from_seq", 1.5),
    "/workflows/list": ("limit", "10"),
}


@pytest.fixture
async def unchanged(engine):
    """Asserts at teardown that nothing was written to the store."""
    before = engine.store.head_position()
    yield
    assert engine.store.head_position() == before


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_malformed_json_is_invalid_input(client, path, unchanged) -> None:
    status, body = await post(
        client, path, data=b'{"workflow_id": ', headers={"content-type": "application/json"}
    )
    assert status == 400
    assert body["code"] == "invalid_input"
    assert "malformed JSON" in body["message"]


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_unknown_field_is_named(client, path, unchanged) -> None:
    status, body = await post(client, path, {**POST_ROUTES[path], "surprise": 1})
    assert status == 400
    assert body["code"] == "invalid_input"
    assert body["error_type"] == "ValidationError"
    assert "unknown field 'surprise'" in body["message"]


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_wrong_type_is_named(client, path, unchanged) -> None:
    field, value = WRONG_TYPES[path]
    status, body = await post(client, path, {**POST_ROUTES[path], field: value})
    assert status == 400
    assert body["code"] == "invalid_input"
    assert f"field '{field}" in body["message"]


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_oversize_body_is_413_invalid_input(client, path, unchanged) -> None:
    big = {**POST_ROUTES[path], "padding": "x" * (128 * 1024)}
    status, body = await post(client, path, big)
    assert status == 413
    assert body["code"] == "invalid_input"
    assert body["error_type"] == "PayloadTooLarge"


async def test_oversize_chunked_body_without_length_is_413(client, unchanged) -> None:
    async def chunks():
        yield b'{"workflow_type": "greeter", "input": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    status, body = await post(client, "/workflows/start", data=chunks())
    assert status == 413
    assert body["code"] == "invalid_input"


async def test_missing_required_field_is_named(client, unchanged) -> None:
    status, body = await post(client, "/workflows/signal", {"workflow_id": "w"})
    assert status == 400
    assert "field 'signal_name': Field required" in body["message"]


async def test_body_must_be_an_object(client, unchanged) -> None:
    status, body = await post(client, "/workflows/start", [1, 2])
    assert status == 400 and body["code"] == "invalid_input"


async def test_empty_body_uses_defaults(client, engine) -> None:
    await start(client, "greeter", input="x")
    status, body = await post(client, "/workflows/list", data=b"", headers=tenant("default"))
    assert status == 200 and body == {"workflows": [], "next_page_token": None}


async def test_unknown_route_and_wrong_method_use_the_envelope(client) -> None:
    status, body = await post(client, "/workflows/nope", {})
    assert status == 404 and body["code"] == "not_found"
    response = await client.get("/workflows/start")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"  # RFC 9110: a 405 names the allowed methods
    assert (await response.json())["error_type"] == "MethodNotAllowed"


async def test_invalid_status_and_limits_are_named(client, unchanged) -> None:
    status, body = await post(
        client, "/workflows/list", {"namespace": TENANT_A, "status": "Sleeping"}
    )
    assert status == 400 and "field 'status'" in body["message"]
    status, body = await post(client, "/workflows/history", {"workflow_id": "w", "limit": 5000})
    assert status == 400 and "field 'limit'" in body["message"]
    status, body = await post(client, "/workflows/result", {"workflow_id": "w", "wait_ms": -1})
    assert status == 400 and "field 'wait_ms'" in body["message"]
