"""UTC timestamps: awareness, RFC 3339 text, and the microsecond integer form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from pydantic import BaseModel, ValidationError

from aionactors.core.timestamps import (
    UtcDatetime,
    as_utc,
    from_micros,
    rfc3339,
    to_micros,
    utc_now,
)


class _Stamped(BaseModel):
    at: UtcDatetime


def test_utc_now_is_aware_utc():
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_as_utc_converts_offsets():
    berlin = timezone(timedelta(hours=1))
    value = datetime(2026, 11, 22, 14, 0, tzinfo=berlin)
    converted = as_utc(value)
    assert converted == value
    assert converted.tzinfo == UTC
    assert converted.hour == 13


def test_as_utc_rejects_naive():
    with pytest.raises(ValueError, match="timezone"):
        as_utc(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 11, 22, 13, 0, 0, 123456, tzinfo=UTC), "2026-11-22T13:00:00.123456Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000000Z"),
        (
            datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            "2025-12-31T22:30:00.000000Z",
        ),
        (datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00.000000Z"),
        (datetime(999, 6, 1, tzinfo=UTC), "0999-06-01T00:00:00.000000Z"),
    ],
)
def test_rfc3339(value, text):
    assert rfc3339(value) == text
    parsed = _Stamped.model_validate_json(f'{{"at": "{text}"}}')
    assert parsed.at == value
    assert _Stamped(at=value).model_dump_json() == f'{{"at":"{text}"}}'


def test_rfc3339_rejects_naive():
    with pytest.raises(ValueError):
        rfc3339(datetime(2026, 1, 1))


def test_utc_datetime_field_python_dump_keeps_datetime():
    value = datetime(2026, 1, 1, tzinfo=UTC)
    assert _Stamped(at=value).model_dump() == {"at": value}
    assert _Stamped(at=value).model_dump(mode="json") == {"at": "2026-01-01T00:00:00.000000Z"}


def test_utc_datetime_field_rejects_naive():
    with pytest.raises(ValidationError):
        _Stamped(at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        _Stamped.model_validate_json('{"at": "2026-01-01T00:00:00"}')


@pytest.mark.parametrize(
    "value",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 22, 13, 0, 0, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1900, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2100, 1, 1, 12, tzinfo=timezone(timedelta(hours=-7))),
    ],
)
def test_micros_round_trip(value):
    micros = to_micros(value)
    assert isinstance(micros, int)
    back = from_micros(micros)
    assert back == value
    assert back.tzinfo == UTC


def test_micros_values():
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert to_micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1
    assert from_micros(-1) == datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_micros_preserve_order():
    values = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=n * 7) for n in range(50)]
    assert sorted(values, key=to_micros) == values
    assert [to_micros(b) - to_micros(a) for a, b in pairwise(values)] == [7] * 49
