"""Telling a store outage (locked, read-only, full, unreachable) from a store bug.

An outage is transient from the caller's point of view: nothing was written, and the same
request may succeed later, so it is ``unavailable`` (503 with Retry-After), not ``backend``.
The message keeps what the store said, so the log says why.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aionactors.core.errors import StoreError
from aionactors.core.ids import TimerId
from aionactors.store.contract import EventStore

_TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "busy",
    "readonly database",
    "read-only",
    "disk is full",
    "database or disk is full",
    "disk i/o error",
    "unable to open database",
    "no space left",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "timeout",
    "timed out",
)


class StoreUnavailable(StoreError):
    """The store cannot take writes (or reads) right now; nothing was written. Retry later."""

    code = "unavailable"
    error_type = "StoreUnavailable"


def is_outage(exc: BaseException) -> bool:
    """True if ``exc``, or an error it was raised from, says the store is unavailable."""
    seen: BaseException | None = exc
    for _ in range(5):  # the driver's error sits a cause or two below eventsourcing's
        if seen is None:
            return False
        if any(marker in str(seen).lower() for marker in _TRANSIENT_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_PROBE_ID = "aion:readiness-probe"
_PROBE_TIMER = TimerId.named("probe")
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def probe_write(store: EventStore) -> None:
    """Raise unless the store commits a write (readiness).

    A SQL store commits what an append needs, its lock and an append-sized row (see
    ``SqlEventStore.probe_write``). Others answer a read and arm and cancel a timer row of
    their own: no workflow has that id and the time is far off, so nothing ever fires it,
    and the row is gone again at once."""
    probe = getattr(store, "probe_write", None)
    if probe is not None:
        probe()
        return
    store.head_position()
    store.schedule_timer(_PROBE_ID, _PROBE_TIMER, _NEVER)
    store.cancel_timer(_PROBE_ID, _PROBE_TIMER)
