"""Cron schedules firing live on an engine across DST nights, and jittered ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aionactors.engine.clock import ManualClock
from aionactors.schedule import ScheduleSpec, jitter, tick_workflow_id
from tests.schedule.support import Harness


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # fall back: 02:30 happens twice that night, fires once (CEST), then 02:30 CET
        (
            "Europe/Berlin",
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)],
        ),
        # spring forward: 02:30 does not exist, fires at 03:00 EDT, then 02:30 EDT
        (
            "America/New_York",
            datetime(2026, 3, 7, 12, tzinfo=UTC),
            [datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 6, 30, tzinfo=UTC)],
        ),
    ],
)
def test_a_daily_cron_fires_once_per_night_across_dst(tmp_path: Path, zone, start, expected):
    clock = ManualClock(start)
    h = Harness(tmp_path / "dst.db", clock)
    try:
        config = {
            "spec": {"cron": "30 2 * * *", "timezone": zone},
            "workflow_type": "sched_quick",
            "overlap_policy": "allow_all",  # the clock races ahead of the runs' endings
        }
        h.schedules.create(config, schedule_id="n")
        for _ in range(2 * 48):  # two days in half-hour steps
            clock.advance(timedelta(minutes=30))
        h.wait_count("n", "ScheduleExecutionEnded", 2)
        h.settle("n")
        assert h.fired_at("n") == expected
    finally:
        h.close()


def test_jitter_delays_the_start_but_not_the_recorded_fire_time(harness: Harness) -> None:
    h = harness
    h.schedules.create(
        {"spec": {"every_seconds": 60, "jitter_seconds": 30}, "workflow_type": "sched_quick"},
        schedule_id="j",
    )
    nominal = h.clock.now() + timedelta(seconds=60)
    delay = jitter("j", nominal, ScheduleSpec(every_seconds=60, jitter_seconds=30))
    assert timedelta(0) < delay < timedelta(seconds=30)
    h.tick(60, "j")
    assert h.triggered("j") == []
    h.clock.advance(delay)
    (triggered,) = h.wait_count("j", "ScheduleTriggered", 1)
    assert triggered.fire_at == nominal
    started = h.engine.history(tick_workflow_id("j", nominal))[0]
    assert started.recorded_at == nominal + delay
