"""Keys from `cryptography` and tokens from PyJWT for the JWT auth tests (generated once)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from tests.transports.support import TENANT_A

SECRET = "s" * 64  # long enough for HS512 (RFC 7518: key >= hash size)
ASYMMETRIC = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
HMAC = ("HS256", "HS384", "HS512")
ALL = HMAC + ASYMMETRIC


@functools.cache
def private_key(family: str) -> Any:
    """One private key per family: 'RS' (also PS), 'ES256', 'ES384', 'ES512', 'EdDSA',
    and 'other-RS' (a second RSA key, for rotation and wrong-key cases)."""
    if family in ("RS", "other-RS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    if family in curves:
        return ec.generate_private_key(curves[family])
    return ed25519.Ed25519PrivateKey.generate()


def family_of(alg: str) -> str:
    return "RS" if alg[:2] in ("RS", "PS") else alg


def key_for(alg: str) -> Any:
    return SECRET if alg in HMAC else private_key(family_of(alg))


def jwk(alg: str, kid: str, *, family: str | None = None, with_alg: bool = True) -> dict:
    """The public JWK of the key ``alg`` signs with (``family`` picks another key)."""
    public = private_key(family or family_of(alg)).public_key()
    document = get_default_algorithms()[alg].to_jwk(public, as_dict=True)
    document["kid"] = kid
    if with_alg:
        document["alg"] = alg
    return document


def jwks_document(*keys: dict) -> dict:
    return {"keys": list(keys)}


def write_jwks(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def public_pem(family: str) -> bytes:
    return (
        private_key(family)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "carol", "namespaces": [TENANT_A], "exp": int(time.time()) + 600, **extra}


def mint(alg: str, payload: dict[str, Any] | None = None, *, kid: str | None = None,
         key: Any = None) -> str:  # fmt: skip
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload or claims(), key or key_for(alg), algorithm=alg, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_secret(secret: bytes, payload: dict[str, Any], **header: Any) -> str:
    """An HS256 token MACed with any bytes, e.g. an RSA public key (PyJWT refuses to make
    one, which is the point: this is the algorithm-confusion attack, made by hand)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = _b64(json.dumps(payload).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def unsigned(payload: dict[str, Any], **header: Any) -> str:
    """``alg: none`` with an empty signature."""
    head = _b64(json.dumps({"alg": "none", "typ": "JWT", **header}).encode())
    return f"{head}.{_b64(json.dumps(payload).encode())}."
