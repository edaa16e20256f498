"""Identity: header mode (operator, grants, `*`) and JWT mode through the real server: every
supported algorithm over HTTP and the WebSocket handshake, and the attacks (`alg: none`,
algorithm confusion, expired, not yet valid, wrong aud/iss, unknown kid, tampering)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.transports import jwt_support as j
from tests.transports.api import post
from tests.transports.support import TENANT_A, TENANT_B, Stream
from transports import ServerConfig, create_app
from transports.auth import HeaderAuth

ISSUER = "https://id.example"
AUDIENCE = "aionactors"


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    """One JWK per asymmetric algorithm (kid = the algorithm), plus one PyJWT cannot use."""
    keys = [j.jwk(alg, kid=alg) for alg in j.ASYMMETRIC]
    keys.append({"kty": "EC", "kid": "broken", "crv": "P-256", "x": "", "y": ""})
    return j.write_jwks(tmp_path / "jwks.json", j.jwks_document(*keys))


@pytest.fixture
def pem_file(tmp_path: Path) -> Path:
    path = tmp_path / "other-rs.pem"
    path.write_bytes(j.public_pem("other-RS"))
    return path


def jwt_config(jwks_file: Path, pem_file: Path, **extra: object) -> ServerConfig:
    return ServerConfig(
        auth="jwt",
        jwt_secret=SecretStr(j.SECRET),
        jwks_file=jwks_file,
        jwt_public_key_file=pem_file,
        **extra,
    )


@pytest.fixture
async def jwt_client(aiohttp_client, engine, jwks_file, pem_file):
    return await aiohttp_client(create_app(engine, jwt_config(jwks_file, pem_file)))


@pytest.fixture
async def strict_client(aiohttp_client, engine, jwks_file, pem_file):
    config = jwt_config(
        jwks_file, pem_file, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_leeway_seconds=0
    )
    return await aiohttp_client(create_app(engine, config))


async def start_in(client, namespace: str, token: str) -> tuple[int, dict]:
    body = {"namespace": namespace, "workflow_type": "greeter"}
    return await post(client, "/workflows/start", body, j.bearer(token))


def test_header_mode_grants() -> None:
    auth = HeaderAuth()
    operator = auth.identify({}, {})
    assert operator.subject == "operator" and operator.namespaces is None and operator.deploy
    alice = auth.identify({"x-aion-subject": "alice", "x-aion-namespaces": "a, b"}, {})
    assert alice.allows("a") and alice.allows("b") and not alice.allows("c")
    assert not alice.deploy
    everyone = auth.identify({"x-aion-namespaces": "*", "x-aion-deploy": "true"}, {})
    assert everyone.allows("anything") and everyone.deploy
    nobody = auth.identify({"x-aion-subject": "eve"}, {})
    assert not nobody.allows("default")


async def test_no_headers_is_the_local_operator(client) -> None:
    status, body = await post(
        client, "/workflows/start", {"namespace": TENANT_B, "workflow_type": "greeter"}
    )
    assert status == 200, body


@pytest.mark.parametrize("alg", j.ALL)
async def test_every_algorithm_grants_its_namespaces_over_http_and_websocket(
    jwt_client, alg
) -> None:
    token = j.mint(alg, kid=None if alg in j.HMAC else alg)
    status, started = await start_in(jwt_client, TENANT_A, token)
    assert status == 200, started
    status, body = await start_in(jwt_client, TENANT_B, token)
    assert status == 403 and body["code"] == "namespace_denied", body
    ws = await jwt_client.ws_connect("/events/stream", params={"access_token": token})
    stream = Stream(ws)
    await stream.subscribe({"firehose": {"namespace": TENANT_B}})
    await stream.expect_error("namespace_denied")
    ws = await jwt_client.ws_connect("/events/stream", headers=j.bearer(token))
    stream = Stream(ws)
    await stream.per_workflow(TENANT_A, started["workflow_id"], resume_from_seq=1)
    assert (await stream.next_event())["event"]["type"] == "WorkflowStarted"
    await ws.close()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
async def test_a_pem_rsa_key_accepts_the_whole_rsa_family(jwt_client, alg) -> None:
    token = j.mint(alg, key=j.private_key("other-RS"))  # no kid: every key is tried
    status, body = await start_in(jwt_client, TENANT_A, token)
    assert status == 200, body


def _attacks() -> list:
    rsa_pem = j.public_pem("RS")
    other = j.private_key("other-RS")
    now = int(time.time())
    return [
        pytest.param(j.unsigned(j.claims()), "algorithm 'none'", id="alg-none"),
        pytest.param(j.unsigned(j.claims(), kid="RS256"), "algorithm 'none'", id="alg-none-kid"),
        pytest.param(
            j.hs256_with_secret(rsa_pem, j.claims(), kid="RS256"),
            "algorithm 'HS256' is not accepted",
            id="hs256-with-rsa-public-key-kid",
        ),
        pytest.param(
            j.hs256_with_secret(j.public_pem("other-RS"), j.claims()),
            "signature does not verify",
            id="hs256-with-pem-public-key",
        ),
        pytest.param(
            j.mint("ES256", kid="RS256"), "algorithm 'ES256' is not accepted", id="alg-swap"
        ),
        pytest.param(
            j.mint("RS256", kid="RS256", key=other), "signature does not verify", id="wrong-key"
        ),
        pytest.param(j.mint("HS256", key="w" * 64), "signature does not verify", id="wrong-secret"),
        pytest.param(  # falls back to the keys without a kid (the secret, the PEM key)
            j.mint("RS256", kid="gone"), "signature does not verify", id="unknown-kid"
        ),
        pytest.param(j.mint("HS256", j.claims(exp=now - 3600)), "expired", id="expired"),
        pytest.param(j.mint("HS256", j.claims(nbf=now + 3600)), "not valid yet", id="nbf"),
        pytest.param(j.mint("HS256", j.claims(iat=now + 3600)), "not valid yet", id="iat-future"),
        pytest.param(j.mint("HS256", {"sub": "carol"}), "no exp claim", id="no-exp"),
        pytest.param(j.mint("HS256", {"exp": now + 60}), "no sub claim", id="no-sub"),
        pytest.param(j.mint("HS256", j.claims(aud="x")), "audience", id="aud-unconfigured"),
        pytest.param("not.a.jwt", "not a compact JWS", id="garbage"),
        pytest.param(
            j.mint("RS256", kid="RS256")[:-8] + "AAAAAAAA",
            "signature does not verify",
            id="tampered-signature",
        ),
    ]


@pytest.mark.parametrize(("token", "why"), _attacks())
async def test_bad_tokens_are_401_over_http_and_websocket(jwt_client, token, why) -> None:
    status, body = await post(
        jwt_client, "/workflows/list", {"namespace": TENANT_A}, j.bearer(token)
    )
    assert (status, body["code"]) == (401, "unauthenticated"), body
    assert why in body["message"], body
    response = await jwt_client.get("/events/stream", params={"access_token": token})
    assert response.status == 401
    assert (await response.json())["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        pytest.param(
            j.hs256_with_secret(j.public_pem("RS"), j.claims()),
            "algorithm 'HS256' is not accepted",
            id="hs256-with-rsa-public-key",
        ),
        pytest.param(j.mint("RS256", kid="gone"), "kid 'gone' matches no", id="unknown-kid"),
        pytest.param(j.unsigned(j.claims()), "algorithm 'none'", id="alg-none"),
    ],
)
async def test_with_keys_only_from_a_jwks_the_key_decides_the_algorithm(
    aiohttp_client, engine, jwks_file, token, why
) -> None:
    """No shared secret: no key allows HS256, so the forged MAC is never even computed."""
    client = await aiohttp_client(create_app(engine, ServerConfig(auth="jwt", jwks_file=jwks_file)))
    status, body = await start_in(client, TENANT_A, token)
    assert status == 401 and why in body["message"], body


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        pytest.param({"iss": "https://evil.example", "aud": AUDIENCE}, "issuer", id="wrong-iss"),
        pytest.param({"aud": AUDIENCE}, "no iss claim", id="no-iss"),
        pytest.param({"iss": ISSUER, "aud": "other"}, "audience", id="wrong-aud"),
        pytest.param({"iss": ISSUER}, "no aud claim", id="no-aud"),
        pytest.param(
            {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) - 2}, "expired", id="no-leeway"
        ),
    ],
)
async def test_issuer_audience_and_leeway_as_configured(strict_client, extra, why) -> None:
    status, body = await start_in(strict_client, TENANT_A, j.mint("ES384", j.claims(**extra),
                                                                  kid="ES384"))  # fmt: skip
    assert status == 401 and why in body["message"], body


async def test_the_right_issuer_and_one_of_the_audiences_pass(strict_client) -> None:
    good = j.claims(iss=ISSUER, aud=["other", AUDIENCE])
    status, body = await start_in(strict_client, TENANT_A, j.mint("EdDSA", good, kid="EdDSA"))
    assert status == 200, body


async def test_leeway_accepts_a_token_just_expired(jwt_client) -> None:
    token = j.mint("HS512", j.claims(exp=int(time.time()) - 5))  # default leeway is 30 s
    status, body = await start_in(jwt_client, TENANT_A, token)
    assert status == 200, body


async def test_configured_algorithms_narrow_what_keys_allow(
    aiohttp_client, engine, jwks_file, pem_file
) -> None:
    config = jwt_config(jwks_file, pem_file, jwt_algorithms=["ES256", "PS256"])
    client = await aiohttp_client(create_app(engine, config))
    assert (await start_in(client, TENANT_A, j.mint("ES256", kid="ES256")))[0] == 200
    assert (await start_in(client, TENANT_A, j.mint("PS256", key=j.private_key("other-RS"))))[
        0
    ] == 200
    for token in (j.mint("HS256"), j.mint("RS256", key=j.private_key("other-RS"))):
        status, body = await start_in(client, TENANT_A, token)
        assert status == 401 and "is not accepted" in body["message"], body


async def test_x_aion_headers_are_ignored_in_jwt_mode(jwt_client) -> None:
    status, _ = await post(
        jwt_client,
        "/workflows/list",
        {"namespace": TENANT_A},
        {"x-aion-subject": "operator", "x-aion-namespaces": "*"},
    )
    assert status == 401


async def test_missing_token_is_401(jwt_client) -> None:
    status, body = await post(jwt_client, "/workflows/list", {"namespace": TENANT_A})
    assert status == 401 and "missing bearer token" in body["message"]
    response = await jwt_client.get("/events/stream")
    assert response.status == 401


async def test_public_routes_need_no_token(jwt_client) -> None:
    for path in ("/health/live", "/health/ready", "/metrics", "/openapi.json"):
        response = await jwt_client.get(path)
        assert response.status == 200, path


async def test_deploy_and_namespaces_claims(jwt_client) -> None:
    token = j.mint("HS256", j.claims(namespaces="*", deploy=True))
    status, body = await start_in(jwt_client, TENANT_B, token)
    assert status == 200, body
    bad = j.mint("HS256", j.claims(namespaces={"a": 1}))
    status, body = await start_in(jwt_client, TENANT_A, bad)
    assert status == 401 and "namespaces" in body["message"]


async def test_the_deploy_claim_gates_the_package_routes(jwt_client) -> None:
    from tests.packages.support import package_archive

    archive = package_archive(1)
    for deploy, expected in ((False, 403), (True, 200)):
        token = j.mint("HS256", j.claims(namespaces="*", deploy=deploy))
        response = await jwt_client.post(
            "/packages", data=archive,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"},
        )  # fmt: skip
        body = await response.json()
        assert response.status == expected, body
        if expected == 403:
            assert body["code"] == "deploy_denied"
            listed = await jwt_client.get("/packages", headers={"Authorization": f"Bearer {token}"})
            assert listed.status == 403
