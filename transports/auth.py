"""Who is calling, and which namespaces they may act in (PROTOCOL.md, "Identity and namespaces").

``headers`` mode: ``x-aion-subject``, ``x-aion-namespaces`` (comma separated,
``*`` = all) and ``x-aion-deploy: true``; a request with none of them is the
local operator (all namespaces, deploy). A request that names a subject but
no namespaces is granted none. ``jwt`` mode: ``Authorization: Bearer <JWT>``
with claims ``sub``, ``namespaces``, ``deploy``, ``exp`` (verified by
``transports.jwt``); anything else is 401.
WebSocket handshakes may pass the same values as query parameters (headers win).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aionactors.core import NamespaceDenied
from transports.errors import Unauthenticated
from transports.jwt import JwtVerifier

SUBJECT = "x-aion-subject"
NAMESPACES = "x-aion-namespaces"
DEPLOY = "x-aion-deploy"
OPERATOR = "operator"

# Query-parameter aliases a browser WebSocket can send (it cannot set headers).
_QUERY_ALIASES = {
    SUBJECT: ("x-aion-subject", "subject"),
    NAMESPACES: ("x-aion-namespaces", "namespaces"),
    DEPLOY: ("x-aion-deploy", "deploy"),
}
_TOKEN_PARAMS = ("authorization", "access_token", "token")


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller: ``namespaces`` None means every namespace."""

    subject: str
    namespaces: frozenset[str] | None
    deploy: bool

    def allows(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def require(self, namespace: str) -> None:
        if not self.allows(namespace):
            raise NamespaceDenied(f"caller {self.subject!r} is not granted namespace {namespace!r}")


LOCAL_OPERATOR = Identity(OPERATOR, None, True)


class Authenticator(Protocol):
    mode: str
    # True when identify may block (a JWKS fetch): the server then calls it in a thread.
    blocking: bool

    def identify(self, headers: Mapping[str, str], query: Mapping[str, str]) -> Identity: ...


def _lookup(headers: Mapping[str, str], query: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for alias in _QUERY_ALIASES.get(name, ()):
        if alias in query:
            return query[alias]
    return None


def parse_namespaces(raw: str | list[Any] | None) -> frozenset[str] | None:
    """``*`` (alone or in the list) = all; otherwise the named ones, blanks dropped."""
    if raw is None:
        return frozenset()
    items = raw.split(",") if isinstance(raw, str) else [str(item) for item in raw]
    names = frozenset(item.strip() for item in items if str(item).strip())
    return None if "*" in names else names


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes")


class HeaderAuth:
    """Trusts the x-aion-* headers: for local use or behind a proxy that sets them."""

    mode = "headers"
    blocking = False

    def identify(self, headers: Mapping[str, str], query: Mapping[str, str]) -> Identity:
        subject = _lookup(headers, query, SUBJECT)
        namespaces = _lookup(headers, query, NAMESPACES)
        deploy = _lookup(headers, query, DEPLOY)
        if subject is None and namespaces is None and deploy is None:
            return LOCAL_OPERATOR
        return Identity(subject or "anonymous", parse_namespaces(namespaces), _truthy(deploy))


class JwtAuth:
    """Verifies a bearer token and reads the grant from its claims."""

    mode = "jwt"

    def __init__(self, verifier: JwtVerifier) -> None:
        self._verifier = verifier
        self.blocking = verifier.fetches_keys

    def identify(self, headers: Mapping[str, str], query: Mapping[str, str]) -> Identity:
        token = _bearer(headers.get("authorization"))
        if token is None:
            for name in _TOKEN_PARAMS:
                if name in query:
                    token = _bearer(query[name]) or query[name]
                    break
        if not token:
            raise Unauthenticated("missing bearer token (Authorization: Bearer <JWT>)")
        claims = self._verifier.verify(token)
        raw = claims.get("namespaces")
        if not isinstance(raw, str | list | type(None)):
            raise Unauthenticated("token claim 'namespaces' must be a list or a string")
        return Identity(claims["sub"], parse_namespaces(raw), _truthy(claims.get("deploy")))


def _bearer(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
