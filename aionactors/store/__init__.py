"""Event stores: one contract, three backends chosen by URL, and a conformance suite.

>>> from aionactors.store import open_store, WriteToken
>>> store = open_store("memory://")
>>> store.read_history("nobody")
[]
"""

from aionactors.core.errors import CorruptHistory, SequenceConflict, StoreError
from aionactors.store.contract import (
    AppendRequest,
    BatchOutcomes,
    CommittedEvent,
    EventStore,
    PackageRecord,
    PackageRouteRecord,
    TimerEntry,
    WriteToken,
)
from aionactors.store.memory import InMemoryStore
from aionactors.store.outage import StoreUnavailable, probe_write
from aionactors.store.sqlite import SQLiteStore
from aionactors.store.urls import DEFAULT_URL, open_store

__all__ = [
    "DEFAULT_URL",
    "AppendRequest",
    "BatchOutcomes",
    "CommittedEvent",
    "CorruptHistory",
    "EventStore",
    "InMemoryStore",
    "PackageRecord",
    "PackageRouteRecord",
    "SQLiteStore",
    "SequenceConflict",
    "StoreError",
    "StoreUnavailable",
    "TimerEntry",
    "WriteToken",
    "open_store",
    "probe_write",
]


def __getattr__(name: str) -> object:
    # PostgresStore needs the optional 'postgres' extra: import it only when asked.
    if name == "PostgresStore":
        from aionactors.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(name)
