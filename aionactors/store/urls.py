"""Open a store from a URL: ``memory://``, ``sqlite:///path/to/file.db``, ``postgresql://...``."""

from __future__ import annotations

from urllib.parse import urlsplit

from aionactors.core.errors import InvalidInput
from aionactors.store.contract import EventStore

DEFAULT_URL = "sqlite:///aionactors.db"


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database (where engines are cluster nodes)."""
    return url.startswith(("postgresql://", "postgres://"))


def open_store(url: str = DEFAULT_URL, *, write_timeout: float = 10.0) -> EventStore:
    """Build the backend a URL names (``sqlite:///rel.db``, or ``sqlite:////abs.db``).

    ``write_timeout`` (seconds) bounds how long a write waits on a locked store before
    it fails as ``unavailable`` (SQLite's busy timeout, PostgreSQL's ``lock_timeout``)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from aionactors.store.memory import InMemoryStore

        return InMemoryStore()
    if scheme == "sqlite":
        path = url.removeprefix("sqlite://").removeprefix("/")
        if not path:
            raise InvalidInput(f"store URL {url!r} names no file: use sqlite:///path/to/file.db")
        from aionactors.store.sqlite import SQLiteStore

        return SQLiteStore(path, lock_timeout=write_timeout)
    if scheme in ("postgres", "postgresql"):
        from aionactors.store.postgres import PostgresStore

        return PostgresStore(url, lock_timeout=write_timeout)
    raise InvalidInput(
        f"store URL {url!r} has unknown scheme {scheme!r}: use memory://, sqlite:/// or postgresql://"
    )
