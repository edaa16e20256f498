"""JWT keys from a JWKS URL (a local aiohttp app on 127.0.0.1): cached, fetched again when a
token names an unknown kid (key rotation), refused when unknown after the refetch, 503 while
the endpoint is down; the URL must be https except on loopback."""

from __future__ import annotations

import pytest
from aiohttp import web

from tests.transports import jwt_support as j
from tests.transports.api import post
from tests.transports.support import TENANT_A, Stream
from transports import ServerConfig, create_app
from transports.config import ConfigError, load_settings


class IdentityProvider:
    """Serves ``document`` at /jwks and counts the fetches; ``down`` answers 500."""

    def __init__(self) -> None:
        self.document = j.jwks_document(j.jwk("RS256", kid="k1"))
        self.fetches = 0
        self.down = False

    async def jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.down:
            return web.Response(status=500, text="down")
        return web.json_response(self.document)


@pytest.fixture
async def idp(aiohttp_server):
    provider = IdentityProvider()
    app = web.Application()
    app.router.add_get("/jwks", provider.jwks)
    server = await aiohttp_server(app)
    provider.url = str(server.make_url("/jwks"))
    return provider


async def serve(aiohttp_client, engine, idp, **extra):
    config = ServerConfig(auth="jwt", jwks_url=idp.url, **extra)
    return await aiohttp_client(create_app(engine, config))


async def start_with(client, token: str) -> tuple[int, dict]:
    body = {"namespace": TENANT_A, "workflow_type": "greeter"}
    return await post(client, "/workflows/start", body, j.bearer(token))


async def test_keys_are_cached_and_refetched_on_rotation(aiohttp_client, engine, idp) -> None:
    client = await serve(aiohttp_client, engine, idp, jwks_refresh_cooldown_seconds=0)
    assert (await start_with(client, j.mint("RS256", kid="k1")))[0] == 200
    assert (await start_with(client, j.mint("RS256", kid="k1")))[0] == 200
    assert idp.fetches == 1  # the second token used the cached set

    # Rotation: the provider now signs with k2 (an ES256 key) and has dropped k1.
    idp.document = j.jwks_document(j.jwk("ES256", kid="k2"))
    status, body = await start_with(client, j.mint("ES256", kid="k2"))
    assert status == 200, body
    assert idp.fetches == 2  # the unknown kid made the server fetch once

    status, body = await start_with(client, j.mint("RS256", kid="k1"))
    assert status == 401 and "kid 'k1' matches no" in body["message"], body
    assert idp.fetches == 3


async def test_the_refetch_cooldown_bounds_fetches_for_random_kids(
    aiohttp_client, engine, idp
) -> None:
    client = await serve(aiohttp_client, engine, idp, jwks_refresh_cooldown_seconds=3600)
    assert (await start_with(client, j.mint("RS256", kid="k1")))[0] == 200
    for kid in ("r1", "r2", "r3"):
        status, body = await start_with(client, j.mint("RS256", kid=kid))
        assert status == 401 and f"kid {kid!r} matches no" in body["message"], body
    assert idp.fetches == 1


async def test_websocket_handshake_with_a_jwks_url_token(aiohttp_client, engine, idp) -> None:
    client = await serve(aiohttp_client, engine, idp)
    token = j.mint("RS256", kid="k1")
    status, started = await start_with(client, token)
    assert status == 200, started
    ws = await client.ws_connect("/events/stream", params={"access_token": token})
    stream = Stream(ws)
    await stream.per_workflow(TENANT_A, started["workflow_id"], resume_from_seq=1)
    assert (await stream.next_event())["event"]["type"] == "WorkflowStarted"
    await ws.close()
    forged = j.mint("RS256", kid="k1", key=j.private_key("other-RS"))
    response = await client.get("/events/stream", params={"access_token": forged})
    assert response.status == 401


async def test_an_unreachable_endpoint_is_503_not_401(aiohttp_client, engine, idp) -> None:
    idp.down = True
    client = await serve(aiohttp_client, engine, idp)
    status, body = await start_with(client, j.mint("RS256", kid="k1"))
    assert status == 503 and body["code"] == "unavailable", body
    assert "jwks_url" in body["message"]
    idp.down = False
    assert (await start_with(client, j.mint("RS256", kid="k1")))[0] == 200


async def test_a_weak_remote_key_is_skipped(aiohttp_client, engine, idp) -> None:
    idp.document = j.jwks_document({"kty": "oct", "kid": "short", "k": "c2hvcnQ", "alg": "HS256"})
    client = await serve(aiohttp_client, engine, idp)
    token = j.hs256_with_secret(b"short", j.claims(), kid="short")
    status, body = await start_with(client, token)
    assert status == 401 and "kid 'short' matches no" in body["message"], body


@pytest.mark.parametrize(
    "url",
    ["http://idp.example/jwks", "ftp://127.0.0.1/jwks", "file:///etc/jwks.json", "https://"],
)
def test_jwks_url_must_be_https_unless_loopback(url, monkeypatch) -> None:
    for name in ("AIONACTORS_AUTH", "AIONACTORS_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="must be https://"):
        load_settings(None, {"auth": "jwt", "jwks_url": url})
    for fine in ("https://idp.example/jwks", "http://127.0.0.1:9/jwks", "http://[::1]/jwks"):
        assert load_settings(None, {"auth": "jwt", "jwks_url": fine}).jwks_url == fine
