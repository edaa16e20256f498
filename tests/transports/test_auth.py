"""Identity: header mode (operator, grants, `*`), JWT mode (HS256 secret, RS256 from a JWKS
file, expiry, tampering, algorithms), and the JWT verifier against known answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.transports import rsa_key
from tests.transports.api import post
from tests.transports.support import TENANT_A, TENANT_B, Stream
from transports import ServerConfig, create_app
from transports.auth import HeaderAuth
from transports.errors import Unauthenticated
from transports.jwt import JwtVerifier, RsaKey, b64url_encode, rsa_pkcs1v15_sha256_verify

SECRET = "correct horse battery staple"
DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def sign_hs256(claims: dict[str, Any], secret: str = SECRET, **header: Any) -> str:
    head = b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = b64url_encode(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url_encode(mac)}"


def sign_rs256(claims: dict[str, Any], kid: str = "k1") -> str:
    head = b64url_encode(json.dumps({"alg": "RS256", "kid": kid}).encode())
    body = b64url_encode(json.dumps(claims).encode())
    size = (rsa_key.N.bit_length() + 7) // 8
    digest = DIGEST_INFO + hashlib.sha256(f"{head}.{body}".encode()).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    signature = pow(int.from_bytes(encoded, "big"), rsa_key.D, rsa_key.N).to_bytes(size, "big")
    return f"{head}.{body}.{b64url_encode(signature)}"


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "carol", "namespaces": [TENANT_A], "exp": time.time() + 600, **extra}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    n = rsa_key.N.to_bytes((rsa_key.N.bit_length() + 7) // 8, "big")
    document = {
        "keys": [
            {"kty": "RSA", "kid": "k1", "alg": "RS256", "n": b64url_encode(n), "e": "AQAB"},
            {"kty": "EC", "kid": "ignored", "crv": "P-256", "x": "", "y": ""},
        ]
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
async def jwt_client(aiohttp_client, engine, jwks_file):
    from pydantic import SecretStr

    config = ServerConfig(auth="jwt", jwt_secret=SecretStr(SECRET), jwks_file=jwks_file)
    return await aiohttp_client(create_app(engine, config))


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


async def test_jwt_hs256_and_rs256_grant_their_namespaces(jwt_client) -> None:
    for token in (sign_hs256(claims()), sign_rs256(claims())):
        status, body = await post(
            jwt_client,
            "/workflows/start",
            {"namespace": TENANT_A, "workflow_type": "greeter"},
            bearer(token),
        )
        assert status == 200, body
        status, body = await post(
            jwt_client,
            "/workflows/start",
            {"namespace": TENANT_B, "workflow_type": "greeter"},
            bearer(token),
        )
        assert status == 403 and body["code"] == "namespace_denied"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="missing"),
        pytest.param(sign_hs256(claims(), secret="wrong"), id="wrong-secret"),
        pytest.param(sign_hs256(claims(exp=time.time() - 3600)), id="expired"),
        pytest.param(sign_hs256({"sub": "carol"}), id="no-exp"),
        pytest.param(sign_hs256(claims(), alg="none"), id="alg-none"),
        pytest.param(sign_rs256(claims(), kid="unknown"), id="unknown-kid"),
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param(sign_rs256(claims())[:-8] + "AAAAAAAA", id="tampered-signature"),
    ],
)
async def test_bad_tokens_are_401(jwt_client, token) -> None:
    headers = bearer(token) if token else {}
    status, body = await post(jwt_client, "/workflows/list", {"namespace": TENANT_A}, headers)
    assert status == 401
    assert body["code"] == "unauthenticated"


async def test_x_aion_headers_are_ignored_in_jwt_mode(jwt_client) -> None:
    status, _ = await post(
        jwt_client,
        "/workflows/list",
        {"namespace": TENANT_A},
        {"x-aion-subject": "operator", "x-aion-namespaces": "*"},
    )
    assert status == 401


async def test_public_routes_need_no_token(jwt_client) -> None:
    for path in ("/health/live", "/health/ready", "/metrics", "/openapi.json"):
        response = await jwt_client.get(path)
        assert response.status == 200, path


async def test_websocket_takes_the_token_as_a_query_parameter(jwt_client) -> None:
    response = await jwt_client.get("/events/stream")
    assert response.status == 401
    ws = await jwt_client.ws_connect(
        "/events/stream", params={"access_token": sign_hs256(claims())}
    )
    stream = Stream(ws)
    await stream.subscribe({"firehose": {"namespace": TENANT_B}})
    await stream.expect_error("namespace_denied")


def test_verifier_known_answers() -> None:
    verifier = JwtVerifier(secret=SECRET, now=lambda: 1000.0, leeway=0)
    token = sign_hs256({"sub": "x", "exp": 1001, "nbf": 999})
    assert verifier.verify(token)["sub"] == "x"
    with pytest.raises(Unauthenticated, match="expired"):
        JwtVerifier(secret=SECRET, now=lambda: 1002.0, leeway=0).verify(token)
    with pytest.raises(Unauthenticated, match="not valid yet"):
        JwtVerifier(secret=SECRET, now=lambda: 990.0, leeway=0).verify(token)
    strict = JwtVerifier(secret=SECRET, issuer="me", audience="api", now=lambda: 1000.0)
    with pytest.raises(Unauthenticated, match="issuer"):
        strict.verify(token)
    good = sign_hs256({"sub": "x", "exp": 1001, "iss": "me", "aud": ["api", "other"]})
    assert strict.verify(good)["iss"] == "me"


def test_rsa_verification_rejects_near_misses() -> None:
    key = RsaKey(rsa_key.N, rsa_key.E)
    token = sign_rs256(claims())
    head, body, signature = token.split(".")
    from transports.jwt import b64url_decode

    raw = b64url_decode(signature)
    message = f"{head}.{body}".encode()
    assert rsa_pkcs1v15_sha256_verify(key, message, raw)
    assert not rsa_pkcs1v15_sha256_verify(key, message + b"x", raw)
    assert not rsa_pkcs1v15_sha256_verify(key, message, raw[1:])
    assert not rsa_pkcs1v15_sha256_verify(key, message, (rsa_key.N + 1).to_bytes(256, "big"))
    with pytest.raises(ValueError, match="shared secret or a JWKS"):
        JwtVerifier()
