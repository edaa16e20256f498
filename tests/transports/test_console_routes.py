"""The console's routes: GET / and /console/{asset} serve the shipped files, publicly, with a
policy that keeps the page on this origin; nothing outside the folder can be named; every
module the page imports is shipped."""

from __future__ import annotations

import re

import pytest

from transports import ServerConfig, create_app
from transports.console_routes import CONSOLE_DIR

IMPORT = re.compile(r'^import .* from "\./([a-z_]+\.js)";$', re.MULTILINE)


async def test_the_page_and_its_assets_are_served_with_an_origin_only_policy(client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    page = await response.text()
    assets = re.findall(r'(?:src|href)="/console/([^"]+)"', page)
    assert {"app.js", "console.css", "favicon.svg"} <= set(assets)
    for name in assets:
        asset = await client.get(f"/console/{name}")
        assert asset.status == 200, name
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    script = await client.get("/console/app.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert (await script.read()) == (CONSOLE_DIR / "app.js").read_bytes()


def test_every_module_the_console_imports_is_shipped() -> None:
    modules = {path.name for path in CONSOLE_DIR.glob("*.js")}
    for path in CONSOLE_DIR.glob("*.js"):
        for imported in IMPORT.findall(path.read_text()):
            assert imported in modules, f"{path.name} imports missing {imported}"
        assert "http://" not in path.read_text() and "https://" not in path.read_text()


@pytest.mark.parametrize(
    "path", ["/console/nope.js", "/console/..%2Fconsole_routes.py", "/console/__init__.py"]
)
async def test_only_the_console_files_can_be_fetched(client, path) -> None:
    response = await client.get(path)
    assert response.status == 404
    body = await response.json()
    assert body["code"] == "not_found"


async def test_the_console_needs_no_token_but_the_api_still_does(
    aiohttp_client, engine, tmp_path
) -> None:
    config = ServerConfig(auth="jwt", jwt_secret="a-console-test-secret-of-32-bytes-or-more")
    client = await aiohttp_client(create_app(engine, config))
    assert (await client.get("/")).status == 200
    assert (await client.get("/console/app.js")).status == 200
    denied = await client.get("/workflows")
    assert denied.status == 401
    assert (await denied.json())["code"] == "unauthenticated"


async def test_the_console_routes_are_in_the_openapi_document(client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert "get" in document["paths"]["/"]
    assert "get" in document["paths"]["/console/{asset}"]
