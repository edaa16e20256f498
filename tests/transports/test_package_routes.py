"""The package routes over real HTTP: deploy rights, deploy, list, route, unload, bad archives."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from aionactors import Engine
from tests.packages.support import TYPES, package_archive
from tests.transports.api import post, result, start
from tests.transports.support import TENANT_A, tenant

DEPLOYER = {**tenant(TENANT_A), "x-aion-deploy": "true"}
ZIP = {"Content-Type": "application/zip"}


async def deploy(client: TestClient, version: int, headers: dict[str, str] | None = None,
                 **params: str) -> tuple[int, dict]:  # fmt: skip
    response = await client.post(
        "/packages", data=package_archive(version), params=params,
        headers={**ZIP, **(DEPLOYER if headers is None else headers)},
    )  # fmt: skip
    return response.status, await response.json()


async def listing(client: TestClient) -> dict[str, dict]:
    response = await client.get("/packages", headers=DEPLOYER)
    assert response.status == 200
    return {p["content_hash"]: p for p in (await response.json())["packages"]}


async def test_deploy_needs_deploy_rights_and_changes_nothing_without(
    client: TestClient, engine: Engine
) -> None:
    status, body = await deploy(client, 1, headers=tenant(TENANT_A))
    assert (status, body["code"]) == (403, "deploy_denied")
    for method, path in (("GET", "/packages"), ("DELETE", "/packages/sha256:" + "0" * 64)):
        response = await client.request(method, path, headers=tenant(TENANT_A))
        assert response.status == 403
    route = {"workflow_type": "Greeter", "content_hash": "x"}
    status, body = await post(client, "/packages/route", route, tenant(TENANT_A))
    assert status == 403
    assert engine.store.list_packages() == [] and engine.packages.list() == []


async def test_deploy_start_route_back_and_unload_over_http(
    client: TestClient, engine: Engine
) -> None:
    status, v1 = await deploy(client, 1)
    assert status == 200, v1
    assert (v1["workflow_types"], v1["freshly_loaded"], v1["routes_changed"]) == (
        TYPES, True, TYPES,
    )  # fmt: skip
    status, again = await deploy(client, 1)
    assert (status, again["freshly_loaded"], again["content_hash"]) == (
        200, False, v1["content_hash"],
    )  # fmt: skip
    first = await start(client, "Greeter", input="ada")
    _, v2 = await deploy(client, 2, route="false")
    assert v2["routes_changed"] == []
    packages = await listing(client)
    assert packages[v1["content_hash"]]["pinned_runs"] == 1
    assert packages[v1["content_hash"]]["routed_types"] == TYPES
    assert packages[v2["content_hash"]]["source"] == "deployed"

    for workflow_type in TYPES:
        status, routed = await post(client, "/packages/route",
                                    {"workflow_type": workflow_type,
                                     "content_hash": v2["content_hash"]}, DEPLOYER)  # fmt: skip
        assert (status, routed["previous"]) == (200, v1["content_hash"])
    second = await start(client, "Greeter", input="bob")
    for started in (first, second):
        status, _ = await post(client, "/workflows/signal", {
            "namespace": TENANT_A, "workflow_id": started["workflow_id"],
            "signal_name": "release"}, tenant(TENANT_A))  # fmt: skip
        assert status == 200
    assert (await result(client, first["workflow_id"]))["result"]["version"] == 1
    assert (await result(client, second["workflow_id"]))["result"]["version"] == 2

    response = await client.delete(f"/packages/{v2['content_hash']}", headers=DEPLOYER)
    body = await response.json()
    assert (response.status, body["code"], body["error_type"]) == (
        409, "invalid_state", "RouteActive",
    )  # fmt: skip
    response = await client.delete(f"/packages/{v1['content_hash']}", headers=DEPLOYER)
    assert response.status == 200
    assert list(await listing(client)) == [v2["content_hash"]]


async def test_bad_requests_name_the_cause(client: TestClient, engine: Engine) -> None:
    response = await client.post("/packages", data=b"not a zip", headers={**ZIP, **DEPLOYER})
    body = await response.json()
    assert (response.status, body["error_type"]) == (400, "PackageInvalid")
    assert "not a zip" in body["message"]
    _, v1 = await deploy(client, 1)
    status, body = await post(client, "/packages/route",
                              {"workflow_type": "Greeter", "content_hash": "sha256:" + "0" * 64},
                              DEPLOYER)  # fmt: skip
    assert (status, body["error_type"]) == (404, "UnknownVersion")
    status, body = await post(client, "/packages/route",
                              {"workflow_type": "Nope", "content_hash": v1["content_hash"]},
                              DEPLOYER)  # fmt: skip
    assert status == 400 and "does not define" in body["message"]
    response = await client.delete("/packages/not-a-hash", headers=DEPLOYER)
    assert response.status == 400
    assert [p.content_hash for p in engine.store.list_packages()] == [v1["content_hash"]]


async def test_an_archive_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, engine: Engine
) -> None:
    limit = engine.settings.package_limits.max_compressed_bytes
    response = await client.post("/packages", data=b"\0" * (limit + 1),
                                 headers={**ZIP, **DEPLOYER})  # fmt: skip
    body = await response.json()
    assert (response.status, body["error_type"]) == (400, "PackageInvalid")
    assert "limit" in body["message"]
