"""UTC timestamps: the one clock format used in events, the store and the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def utc_now() -> datetime:
    """The current wall-clock time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; refuse naive ones (their zone is a guess)."""
    if value.tzinfo is UTC:
        return value  # the common case, on every event validation
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (RFC 3339 with Z or an offset)")
    return value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """Format as RFC 3339 in UTC with microseconds and a Z suffix."""
    # isoformat, not strftime: glibc's %Y does not zero-pad years before 1000.
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch: the sortable integer form the SQL stores index."""
    delta = as_utc(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Inverse of :func:`to_micros`."""
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

UtcDatetime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
]
"""An aware datetime, normalised to UTC, serialised as RFC 3339 with Z."""
