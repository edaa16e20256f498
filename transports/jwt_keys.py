"""Verification keys for JWT auth, each with the algorithms its type allows.

A key decides which algorithms may be used with it, never the token: an RSA key
accepts RS256/384/512 and PS256/384/512, an EC key the ES algorithm of its
curve, an Ed25519/Ed448 key EdDSA, a shared secret the HS algorithms its length
supports (RFC 7518 §3.2: the key at least as long as the hash). A JWK accepts
exactly one algorithm: its ``alg``, or PyJWT's default for its type. ``none`` is
in no list, so it is never accepted, and an HS256 token "signed" with an RSA
public key finds no key that allows HS256.

Example::

    keys = secret_key("a shared secret at least 32 bytes long")
    keys[0].algorithms     # ("HS256",)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

JwtAlgorithm = Literal[
    "HS256", "HS384", "HS512",
    "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512",
    "EdDSA",
]  # fmt: skip
SUPPORTED_ALGORITHMS: tuple[str, ...] = get_args(JwtAlgorithm)
MIN_RSA_BITS = 2048
MIN_SECRET_BYTES = 32
_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_BY_CURVE = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A key PyJWT can verify with, the algorithms it allows, and its ``kid`` (if any)."""

    key: Any
    algorithms: tuple[str, ...]
    kid: str | None = None

    def allows(self, algorithm: object) -> bool:
        return algorithm in self.algorithms


def restrict(keys: Iterable[VerificationKey], allowed: Iterable[str]) -> list[VerificationKey]:
    """The keys with their algorithms cut to the operator's ``allowed`` list; empty ones go."""
    permitted = set(allowed)
    narrowed = []
    for key in keys:
        algorithms = tuple(a for a in key.algorithms if a in permitted)
        if algorithms:
            narrowed.append(VerificationKey(key.key, algorithms, key.kid))
    return narrowed


def secret_key(secret: str) -> list[VerificationKey]:
    """A shared secret: HS256 from 32 bytes, HS384 from 48, HS512 from 64."""
    raw = secret.encode()
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(
            f"jwt_secret is {len(raw)} bytes; HS256 needs at least {MIN_SECRET_BYTES} (RFC 7518)"
        )
    return [VerificationKey(raw, tuple(a for a, n in _HMAC_BYTES.items() if len(raw) >= n))]


def public_key_file(path: Path) -> list[VerificationKey]:
    """A PEM public key (RSA, EC, Ed25519 or Ed448)."""
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        where = f"jwt_public_key_file {path}"
        raise ValueError(f"{where}: not a readable PEM public key ({exc})") from None
    return [VerificationKey(key, _algorithms_of(key, str(path)))]


def _algorithms_of(key: object, where: str) -> tuple[str, ...]:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"{where}: RSA key of {key.key_size} bits; at least {MIN_RSA_BITS}")
        return _RSA
    if isinstance(key, ec.EllipticCurvePublicKey):
        algorithm = _EC_BY_CURVE.get(key.curve.name)
        if algorithm is None:
            raise ValueError(f"{where}: EC curve {key.curve.name} is not supported")
        return (algorithm,)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ("EdDSA",)
    raise ValueError(f"{where}: {type(key).__name__} keys are not supported")


def jwks_file(path: Path) -> list[VerificationKey]:
    """Every signing key of a local JWKS file (``{"keys": [...]}``)."""
    where = f"jwks_file {path}"
    try:
        jwk_set = jwt.PyJWKSet.from_json(Path(path).read_text())
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ValueError(f"{where}: not a usable JWK Set ({exc})") from None
    keys = [k for k in (from_jwk(jwk, where) for jwk in jwk_set.keys) if k is not None]
    if not keys:
        raise ValueError(f"{where}: no signing keys with a supported algorithm")
    return keys


def from_jwk(jwk: jwt.PyJWK, where: str) -> VerificationKey | None:
    """A parsed JWK as a verification key, or None when it is not for signatures or its
    algorithm is not supported. A JWK allows its ``alg``, or PyJWT's default for its type
    when it names none (RSA: RS256, oct: HS256, EC: by curve, OKP: EdDSA)."""
    algorithm = jwk.algorithm_name
    if jwk.public_key_use not in (None, "sig") or algorithm not in SUPPORTED_ALGORITHMS:
        return None
    key = jwk.key
    if callable(getattr(key, "public_key", None)):
        key = key.public_key()  # a JWK that carries private material: verify with its public half
    if algorithm in _HMAC_BYTES:
        if len(key) < _HMAC_BYTES[algorithm]:
            raise ValueError(
                f"{where}: oct key {jwk.key_id!r} is shorter than {_HMAC_BYTES[algorithm]} "
                f"bytes, too short for {algorithm} (RFC 7518)"
            )
    elif algorithm not in _algorithms_of(key, f"{where}: key {jwk.key_id!r}"):
        return None
    return VerificationKey(key, (algorithm,), jwk.key_id)
