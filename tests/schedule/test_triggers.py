"""Triggers: cron (5/6 fields, aliases) in IANA zones across DST, intervals, bounds, jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from aionactors.core.errors import InvalidInput
from aionactors.core.schedules import ScheduleSpec
from aionactors.schedule import jitter, next_fire_times, previous_fire_times, validate_spec

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(zone: ZoneInfo, times: list[datetime]) -> list[str]:
    return [t.astimezone(zone).strftime("%m-%d %H:%M:%S%z") for t in times]


def cron(expression: str, zone: str = "UTC", **fields) -> ScheduleSpec:
    return ScheduleSpec(cron=expression, timezone=zone, **fields)


# ---- cron basics ---------------------------------------------------------------------------------


def test_five_field_cron_is_strictly_after() -> None:
    spec = cron("*/15 * * * *")
    assert next_fire_times(spec, utc(2026, 1, 1, 0, 0), 3) == [
        utc(2026, 1, 1, 0, 15),
        utc(2026, 1, 1, 0, 30),
        utc(2026, 1, 1, 0, 45),
    ]
    assert next_fire_times(spec, utc(2026, 1, 1, 0, 14, 59, 999999), 1) == [utc(2026, 1, 1, 0, 15)]


def test_six_field_cron_has_seconds_first() -> None:
    spec = cron("*/20 30 * * * *")
    assert next_fire_times(spec, utc(2026, 1, 1, 0, 0), 4) == [
        utc(2026, 1, 1, 0, 30, 0),
        utc(2026, 1, 1, 0, 30, 20),
        utc(2026, 1, 1, 0, 30, 40),
        utc(2026, 1, 1, 1, 30, 0),
    ]


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("@hourly", utc(2026, 1, 1, 1)),
        ("@daily", utc(2026, 1, 2)),
        ("@midnight", utc(2026, 1, 2)),
        ("@weekly", utc(2026, 1, 4)),  # Sunday
        ("@monthly", utc(2026, 2, 1)),
        ("@yearly", utc(2027, 1, 1)),
        ("@annually", utc(2027, 1, 1)),
    ],
)
def test_aliases(alias: str, expected: datetime) -> None:
    assert next_fire_times(cron(alias), utc(2026, 1, 1), 1) == [expected]


def test_cron_in_a_time_zone() -> None:
    spec = cron("0 9 * * 1-5", "Europe/Berlin")  # 09:00 Berlin on weekdays (CET = UTC+1)
    assert next_fire_times(spec, utc(2026, 1, 2, 12), 2) == [utc(2026, 1, 5, 8), utc(2026, 1, 6, 8)]


# ---- DST ---------------------------------------------------------------------------------


def test_berlin_spring_forward_skipped_time_fires_once_at_the_next_valid_time() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
    fires = next_fire_times(cron("30 2 * * *", "Europe/Berlin"), utc(2026, 3, 27, 12), 3)
    assert local(BERLIN, fires) == [
        "03-28 02:30:00+0100",
        "03-29 03:00:00+0200",
        "03-30 02:30:00+0200",
    ]


def test_berlin_spring_forward_every_15_minutes_collapses_the_gap() -> None:
    fires = next_fire_times(cron("*/15 * * * *", "Europe/Berlin"), utc(2026, 3, 29, 0, 40), 4)
    assert local(BERLIN, fires) == [
        "03-29 01:45:00+0100",
        "03-29 03:00:00+0200",
        "03-29 03:15:00+0200",
        "03-29 03:30:00+0200",
    ]


def test_berlin_fall_back_ambiguous_time_fires_once() -> None:
    # 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice, fires once (the first).
    spec = cron("30 2 * * *", "Europe/Berlin")
    fires = next_fire_times(spec, utc(2026, 10, 23, 12), 3)
    assert local(BERLIN, fires) == [
        "10-24 02:30:00+0200",
        "10-25 02:30:00+0200",
        "10-26 02:30:00+0100",
    ]
    # croniter alone fires the repeated 02:30 twice: the reason for walking wall-clock time.
    raw = croniter("30 2 * * *", datetime(2026, 10, 24, 12, tzinfo=BERLIN))
    assert [raw.get_next(datetime).strftime("%H:%M%z") for _ in range(2)] == [
        "02:30+0200",
        "02:30+0100",
    ]


def test_berlin_fall_back_hourly_has_one_two_oclock() -> None:
    fires = next_fire_times(cron("0 * * * *", "Europe/Berlin"), utc(2026, 10, 24, 22, 30), 4)
    assert local(BERLIN, fires) == [
        "10-25 01:00:00+0200",
        "10-25 02:00:00+0200",
        "10-25 03:00:00+0100",
        "10-25 04:00:00+0100",
    ]


def test_inside_the_repeated_hour_the_next_fire_is_after_it() -> None:
    # 01:30 UTC is 02:30 CET, the second pass: the 02:xx matches already fired in the first.
    fires = next_fire_times(cron("*/20 * * * *", "Europe/Berlin"), utc(2026, 10, 25, 1, 30), 2)
    assert local(BERLIN, fires) == ["10-25 03:00:00+0100", "10-25 03:20:00+0100"]
    seconds = next_fire_times(cron("* * * * * *", "Europe/Berlin"), utc(2026, 10, 25, 1, 30), 1)
    assert local(BERLIN, seconds) == ["10-25 03:00:00+0100"]


def test_new_york_spring_forward() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    daily = next_fire_times(cron("30 2 * * *", "America/New_York"), utc(2026, 3, 7, 12), 2)
    assert local(NEW_YORK, daily) == ["03-08 03:00:00-0400", "03-09 02:30:00-0400"]
    hourly = next_fire_times(cron("0 * * * *", "America/New_York"), utc(2026, 3, 8, 5, 30), 3)
    assert local(NEW_YORK, hourly) == [
        "03-08 01:00:00-0500",
        "03-08 03:00:00-0400",
        "03-08 04:00:00-0400",
    ]


def test_new_york_fall_back() -> None:
    # 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:xx happens twice.
    daily = next_fire_times(cron("30 1 * * *", "America/New_York"), utc(2026, 10, 31, 12), 2)
    assert local(NEW_YORK, daily) == ["11-01 01:30:00-0400", "11-02 01:30:00-0500"]
    quarter = next_fire_times(cron("*/30 * * * *", "America/New_York"), utc(2026, 11, 1, 4, 40), 4)
    assert local(NEW_YORK, quarter) == [
        "11-01 01:00:00-0400",
        "11-01 01:30:00-0400",
        "11-01 02:00:00-0500",
        "11-01 02:30:00-0500",
    ]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("expression", ["*/7 * * * *", "30 * * * *", "0 2 * * *", "*/45 * * * * *"])
def test_previous_mirrors_next_across_the_transitions(zone: str, expression: str) -> None:
    spec = cron(expression, zone)
    rng = random.Random(f"{zone}{expression}")
    for day in (utc(2026, 3, 8), utc(2026, 3, 29), utc(2026, 10, 25), utc(2026, 11, 1)):
        for _ in range(10):
            start = day + timedelta(seconds=rng.randrange(0, 86_400))
            forward = next_fire_times(spec, start, 8)
            assert forward == sorted(set(forward)) and forward[0] > start
            backward = previous_fire_times(spec, forward[-1], 8)
            assert backward == forward[::-1]
            assert previous_fire_times(spec, forward[-1], 20, after=start) == forward[::-1]


# ---- intervals, bounds, jitter ------------------------------------------------------------------


def test_interval_is_epoch_anchored_with_a_phase_offset() -> None:
    spec = ScheduleSpec(every_seconds=3600, offset_seconds=900)
    assert next_fire_times(spec, utc(2026, 1, 1, 10, 15), 2) == [
        utc(2026, 1, 1, 11, 15),
        utc(2026, 1, 1, 12, 15),
    ]
    assert previous_fire_times(spec, utc(2026, 1, 1, 10, 15), 2) == [
        utc(2026, 1, 1, 10, 15),
        utc(2026, 1, 1, 9, 15),
    ]
    fast = ScheduleSpec(every_seconds=0.25)
    assert next_fire_times(fast, utc(2026, 1, 1), 2) == [
        utc(2026, 1, 1) + timedelta(milliseconds=250),
        utc(2026, 1, 1) + timedelta(milliseconds=500),
    ]


def test_start_and_end_bound_the_fire_times() -> None:
    spec = ScheduleSpec(
        every_seconds=60, start_at=utc(2026, 1, 1, 0, 5), end_at=utc(2026, 1, 1, 0, 7)
    )
    assert next_fire_times(spec, utc(2026, 1, 1), 10) == [
        utc(2026, 1, 1, 0, 5),
        utc(2026, 1, 1, 0, 6),
        utc(2026, 1, 1, 0, 7),
    ]
    assert next_fire_times(spec, utc(2026, 1, 1, 0, 7), 1) == []
    assert previous_fire_times(spec, utc(2026, 2, 1), 10) == [
        utc(2026, 1, 1, 0, 7),
        utc(2026, 1, 1, 0, 6),
        utc(2026, 1, 1, 0, 5),
    ]
    bounded_cron = cron("0 * * * *", start_at=utc(2026, 1, 1, 5))
    assert next_fire_times(bounded_cron, utc(2026, 1, 1), 1) == [utc(2026, 1, 1, 5)]


def test_jitter_is_deterministic_bounded_and_per_schedule() -> None:
    spec = ScheduleSpec(every_seconds=60, jitter_seconds=30)
    fire = utc(2026, 1, 1, 0, 1)
    delays = [jitter(f"s{i}", fire, spec) for i in range(200)]
    assert all(timedelta(0) <= d < timedelta(seconds=30) for d in delays)
    assert len(set(delays)) > 150
    assert jitter("s1", fire, spec) == jitter("s1", fire, spec)
    assert jitter("s1", fire, spec) != jitter("s1", fire + timedelta(minutes=1), spec)
    assert jitter("s1", fire, ScheduleSpec(every_seconds=60)) == timedelta(0)


# ---- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (cron("61 * * * *"), "spec.cron"),
        (cron("* * * * * * *"), "spec.cron: .* 7 fields"),
        (cron("@reboot"), "spec.cron: unknown alias"),
        (cron("0 0 30 2 *"), "spec.cron: .* never fires"),
        (cron("not a cron"), "spec.cron"),
        (cron("* * * * *", "Europe/Atlantis"), "spec.timezone"),
        (ScheduleSpec(every_seconds=60, offset_seconds=60), "spec.offset_seconds"),
        (ScheduleSpec(every_seconds=1e-9), "spec.every_seconds"),
    ],
)
def test_invalid_specs_name_the_field(spec: ScheduleSpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_spec(spec)


def test_valid_specs_pass() -> None:
    for spec in (cron("0 0 29 2 *"), cron("@daily", "Asia/Kolkata"), ScheduleSpec(every_seconds=1)):
        validate_spec(spec)
