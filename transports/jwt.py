"""JSON Web Token verification with PyJWT: which key, which algorithm, which claims.

Keys come from a shared secret, a PEM public key file, a local JWKS file and a
JWKS URL (any mix). The token's ``kid`` picks the keys; the key's type picks the
algorithms (``transports.jwt_keys``), so ``alg: none`` and algorithm confusion
cannot pass. ``exp`` and ``sub`` are required; ``nbf`` and ``iat`` are checked
when present; ``iss`` and ``aud`` when configured (a token with an ``aud`` is
refused unless ``audience`` is set, RFC 7519 §4.1.3); ``leeway`` applies to the
time claims.

A JWKS URL is read through ``jwt.PyJWKClient``: the key set is cached for
``cache_seconds`` and fetched again when a token names an unknown ``kid`` (at
most once per ``refresh_cooldown_seconds``, so random kids cannot flood the
identity provider). The URL must be ``https://``; plain ``http://`` is accepted
only for a loopback host (a test or a sidecar on the same machine). A fetch
blocks, so callers on an event loop run ``verify`` in a thread when
``fetches_keys`` is true. An unreachable endpoint is 503 ``unavailable``: the
token may be fine, the server cannot tell yet.

Example::

    verifier = JwtVerifier(secret="a shared secret at least 32 bytes long")
    claims = verifier.verify(token)        # raises Unauthenticated
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import jwt

from aionactors.core import Unavailable
from transports import jwt_keys
from transports.errors import Unauthenticated
from transports.jwt_keys import SUPPORTED_ALGORITHMS, VerificationKey

if TYPE_CHECKING:
    from transports.config import ServerConfig

_REQUIRED_CLAIMS = ["exp", "sub"]


def check_jwks_url(url: str) -> str:
    """``https://`` anywhere, ``http://`` only to a loopback host; anything else is refused."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if parsed.scheme == "https" and host:
        return url
    if parsed.scheme == "http" and _is_loopback(host):
        return url
    raise ValueError(f"jwks_url {url!r} must be https:// (http:// only for a loopback host)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RemoteJwks:
    """The signing keys behind a JWKS URL, cached by ``jwt.PyJWKClient``."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = 300.0,
        refresh_cooldown_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._where = f"jwks_url {check_jwks_url(url)}"
        self._client = jwt.PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=cache_seconds,
            cooldown_duration=refresh_cooldown_seconds,
            timeout=timeout_seconds,
        )

    def keys_for(self, kid: str | None) -> list[VerificationKey]:
        """The keys that may have signed a token with this ``kid`` (all of them for none);
        empty when the kid is unknown even after a refetch."""
        try:
            signing = self._client.get_signing_keys()
        except (jwt.PyJWTError, ValueError) as exc:  # ValueError: the body is not JSON
            raise self._unavailable(exc) from None
        if kid is not None:
            signing = [k for k in signing if k.key_id == kid]
        if kid is not None and not signing:
            try:  # not in the cached set: PyJWKClient refetches once (rotation)
                signing = [self._client.get_signing_key(kid)]
            except (jwt.PyJWKClientConnectionError, ValueError) as exc:
                raise self._unavailable(exc) from None
            except jwt.PyJWTError:
                return []  # still unknown after the refetch (or within its cooldown)
        return [key for key in (_from_remote(k, self._where) for k in signing) if key]

    def _unavailable(self, exc: Exception) -> Unavailable:
        return Unavailable(f"{self._where} gave no usable key set: {exc}")


def _from_remote(jwk: jwt.PyJWK, where: str) -> VerificationKey | None:
    try:
        return jwt_keys.from_jwk(jwk, where)
    except ValueError:
        return None  # a weak key in a remote set is skipped, never trusted


class JwtVerifier:
    """Checks a compact JWS against the configured keys and returns its claims."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key_file: str | Path | None = None,
        jwks_file: str | Path | None = None,
        jwks: RemoteJwks | None = None,
        algorithms: Iterable[str] = SUPPORTED_ALGORITHMS,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 30.0,
    ) -> None:
        self._algorithms = tuple(algorithms)
        unknown = sorted(set(self._algorithms) - set(SUPPORTED_ALGORITHMS))
        if unknown:
            raise ValueError(
                f"jwt_algorithms: {', '.join(unknown)} not supported; "
                f"choose from {', '.join(SUPPORTED_ALGORITHMS)}"
            )
        keys: list[VerificationKey] = []
        if secret:
            keys += jwt_keys.secret_key(secret)
        if public_key_file is not None:
            keys += jwt_keys.public_key_file(Path(public_key_file))
        if jwks_file is not None:
            keys += jwt_keys.jwks_file(Path(jwks_file))
        self._keys = jwt_keys.restrict(keys, self._algorithms)
        if keys and not self._keys:
            raise ValueError(
                f"jwt_algorithms {list(self._algorithms)} allows none of the configured keys"
            )
        if not self._keys and jwks is None:
            raise ValueError(
                "JWT auth needs jwt_secret, jwt_public_key_file, jwks_file or jwks_url"
            )
        self._remote = jwks
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    @property
    def fetches_keys(self) -> bool:
        """True when ``verify`` may block on a JWKS fetch."""
        return self._remote is not None

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("token is not a compact JWS (header.payload.signature)") from None
        alg, kid = header.get("alg"), header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token header 'kid' must be a string")
        candidates = self._keys_for(kid)
        usable = [key for key in candidates if key.allows(alg)]
        if not usable:
            accepted = sorted({a for key in candidates for a in key.algorithms})
            raise Unauthenticated(
                f"token algorithm {alg!r} is not accepted for its key ({', '.join(accepted)})"
            )
        for key in usable:
            try:
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=list(key.algorithms),
                    issuer=self._issuer,
                    audience=self._audience,
                    leeway=self._leeway,
                    options={"require": _REQUIRED_CLAIMS},
                )
            except jwt.InvalidSignatureError:
                continue  # another key with the same kid (or none) may have signed it
            except jwt.PyJWTError as exc:
                raise Unauthenticated(_explain(exc)) from None
            if not claims["sub"]:
                raise Unauthenticated("token has an empty sub claim")
            return claims
        raise Unauthenticated("token signature does not verify")

    def _keys_for(self, kid: str | None) -> list[VerificationKey]:
        """A kid picks the keys with that kid (here, else behind the JWKS URL); keys without
        a kid (a secret, a PEM file) are the fallback. No kid: every key."""
        if kid is None:
            remote = self._remote.keys_for(None) if self._remote is not None else []
            return self._keys + jwt_keys.restrict(remote, self._algorithms)
        exact = [key for key in self._keys if key.kid == kid]
        if not exact and self._remote is not None:
            exact = jwt_keys.restrict(self._remote.keys_for(kid), self._algorithms)
        fallback = [key for key in self._keys if key.kid is None]
        if not exact and not fallback:
            raise Unauthenticated(f"token kid {kid!r} matches no configured key")
        return exact or fallback


def _explain(exc: jwt.PyJWTError) -> str:
    """A message that says which check failed (PyJWT's own are terse)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return f"token is not valid yet ({exc})"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "token issuer is not accepted"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "token audience is not accepted"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token has no {exc.claim} claim"
    return f"token is not valid: {exc}"


def jwt_verifier_for(config: ServerConfig) -> JwtVerifier:
    """The verifier ``config``'s ``jwt_*`` and ``jwks_*`` settings describe."""
    remote = None
    if config.jwks_url is not None:
        remote = RemoteJwks(
            config.jwks_url,
            cache_seconds=config.jwks_cache_seconds,
            refresh_cooldown_seconds=config.jwks_refresh_cooldown_seconds,
            timeout_seconds=config.jwks_timeout_seconds,
        )
    return JwtVerifier(
        secret=config.jwt_secret.get_secret_value() if config.jwt_secret else None,
        public_key_file=config.jwt_public_key_file,
        jwks_file=config.jwks_file,
        jwks=remote,
        algorithms=config.jwt_algorithms or SUPPORTED_ALGORITHMS,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        leeway=config.jwt_leeway_seconds,
    )
