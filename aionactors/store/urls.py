"""Open a store from a URL: ``memory://``, ``sqlite:///path/to/file.db``, ``postgresql://...``."""

from __future__ import annotations

from urllib.parse import urlsplit

from aionactors.core.errors import InvalidInput
from aionactors.store.contract import EventStore

DEFAULT_URL = "sqlite:///aionactors.db"


def open_store(url: str = DEFAULT_URL) -> EventStore:
    """Build the backend a URL names (``sqlite:///rel.db``, or ``sqlite:////abs.db``)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from aionactors.store.memory import InMemoryStore

        return InMemoryStore()
    if scheme == "sqlite":
        path = url.removeprefix("sqlite://").removeprefix("/")
        if not path:
            raise InvalidInput(f"store URL {url!r} names no file: use sqlite:///path/to/file.db")
        from aionactors.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    if scheme in ("postgres", "postgresql"):
        from aionactors.store.postgres import PostgresStore

        return PostgresStore(url)
    raise InvalidInput(
        f"store URL {url!r} has unknown scheme {scheme!r}: use memory://, sqlite:/// or postgresql://"
    )
