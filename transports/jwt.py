"""JSON Web Token verification (HS256 and RS256) with the standard library only.

HS256 checks an HMAC-SHA256 against a shared secret (or ``oct`` keys of a JWKS
file). RS256 checks an RSASSA-PKCS1-v1_5 SHA-256 signature against the RSA
public keys (``n``, ``e``) of a local JWKS file: verification is one modular
exponentiation and a byte-for-byte comparison with the expected encoding, so
no crypto library is needed. ``alg: none`` and every other algorithm are refused.

Example::

    verifier = JwtVerifier(secret="s3cret")
    claims = verifier.verify(token)        # raises Unauthenticated
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from transports.errors import Unauthenticated

# DER of DigestInfo{sha256, NULL} (RFC 8017 §9.2 note 1), followed by the 32-byte digest.
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class RsaKey:
    n: int
    e: int
    kid: str | None = None

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8


@dataclass(frozen=True, slots=True)
class HmacKey:
    secret: bytes
    kid: str | None = None


_K = TypeVar("_K", "HmacKey", "RsaKey")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthenticated("token is not valid base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_jwks(path: str | Path) -> tuple[list[RsaKey], list[HmacKey]]:
    """Read RSA and oct keys from a JWKS file (``{"keys": [...]}``); other kinds are skipped."""
    document = json.loads(Path(path).read_text())
    rsa_keys: list[RsaKey] = []
    hmac_keys: list[HmacKey] = []
    for jwk in document.get("keys", []):
        kid = jwk.get("kid")
        if jwk.get("kty") == "RSA":
            key = RsaKey(
                int.from_bytes(b64url_decode(jwk["n"]), "big"),
                int.from_bytes(b64url_decode(jwk["e"]), "big"),
                kid,
            )
            if key.n.bit_length() < MIN_RSA_BITS:
                raise ValueError(f"JWKS key {kid!r} is shorter than {MIN_RSA_BITS} bits")
            rsa_keys.append(key)
        elif jwk.get("kty") == "oct":
            hmac_keys.append(HmacKey(b64url_decode(jwk["k"]), kid))
    return rsa_keys, hmac_keys


def rsa_pkcs1v15_sha256_verify(key: RsaKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) by re-encoding and comparing."""
    k = key.size
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    padding = k - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


class JwtVerifier:
    """Checks a compact JWS and its time claims; returns the claims."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_file: str | Path | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 30.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._hmac_keys: list[HmacKey] = []
        self._rsa_keys: list[RsaKey] = []
        if secret:
            self._hmac_keys.append(HmacKey(secret.encode()))
        if jwks_file is not None:
            rsa_keys, hmac_keys = load_jwks(jwks_file)
            self._rsa_keys += rsa_keys
            self._hmac_keys += hmac_keys
        if not self._hmac_keys and not self._rsa_keys:
            raise ValueError("JWT auth needs a shared secret or a JWKS file with usable keys")
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._now = now

    def verify(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthenticated("token is not a compact JWS (header.payload.signature)")
        header = _json_part(parts[0], "header")
        claims = _json_part(parts[1], "payload")
        signature = b64url_decode(parts[2])
        signed = f"{parts[0]}.{parts[1]}".encode("ascii")
        alg, kid = header.get("alg"), header.get("kid")
        if alg == "HS256":
            ok = any(
                hmac.compare_digest(hmac.new(k.secret, signed, hashlib.sha256).digest(), signature)
                for k in _by_kid(self._hmac_keys, kid)
            )
        elif alg == "RS256":
            ok = any(
                rsa_pkcs1v15_sha256_verify(k, signed, signature)
                for k in _by_kid(self._rsa_keys, kid)
            )
        else:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted (HS256, RS256)")
        if not ok:
            raise Unauthenticated("token signature does not verify")
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._now()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise Unauthenticated("token has no numeric exp claim")
        if now > exp + self._leeway:
            raise Unauthenticated("token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now + self._leeway < nbf:
            raise Unauthenticated("token is not valid yet")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthenticated("token has no sub claim")
        if self._issuer is not None and claims.get("iss") != self._issuer:
            raise Unauthenticated("token issuer is not accepted")
        if self._audience is not None:
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if self._audience not in audiences:
                raise Unauthenticated("token audience is not accepted")


def _by_kid(keys: list[_K], kid: object) -> list[_K]:
    if kid is None:
        return keys
    return [k for k in keys if k.kid == kid or k.kid is None]


def _json_part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthenticated(f"token {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise Unauthenticated(f"token {what} is not a JSON object")
    return value
