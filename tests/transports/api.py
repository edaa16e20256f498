"""Small HTTP helpers for the route tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.transports.support import TENANT_A, tenant

Reply = tuple[int, Any]


async def post(
    client: TestClient,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> Reply:
    if body is not None:
        kw["json"] = body
    response = await client.post(path, headers=headers if headers is not None else {}, **kw)
    return response.status, await response.json()


async def get(
    client: TestClient, path: str, params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:  # fmt: skip
    response = await client.get(path, params=params or {}, headers=headers or {})
    return response.status, await response.json()


async def start(
    client: TestClient,
    workflow_type: str = "collector",
    namespace: str = TENANT_A,
    **fields: Any,
) -> dict[str, str]:
    status, body = await post(
        client,
        "/workflows/start",
        {"namespace": namespace, "workflow_type": workflow_type, **fields},
        tenant(namespace),
    )
    assert status == 200, body
    return body


async def act(client: TestClient, route: str, namespace: str = TENANT_A, **fields: Any) -> Reply:
    """POST /workflows/<route> as a caller granted ``namespace``."""
    return await post(
        client, f"/workflows/{route}", {"namespace": namespace, **fields}, tenant(namespace)
    )


async def result(client: TestClient, workflow_id: str, wait_ms: int = 10_000, **kw: Any) -> Any:
    status, body = await act(client, "result", workflow_id=workflow_id, wait_ms=wait_ms, **kw)
    assert status == 200, body
    return body
