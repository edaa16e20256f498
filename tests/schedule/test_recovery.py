"""Downtime and crashes: catch-up policies, restart recovery, exactly once per tick."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from aionactors.core.schedules import ScheduleConfig
from aionactors.engine.clock import ManualClock
from aionactors.schedule import Seams, StartedRun, WorkflowStarter, tick_workflow_id
from tests.schedule.support import Harness, at, every


def outage(h: Harness, policy: str, downtime: float = 600, **fields: Any) -> None:
    """One tick at 00:01, then ten periods (00:02 .. 00:11) pass with the engine down."""
    h.schedules.create(every(60, "sched_quick", catch_up_policy=policy, **fields), schedule_id="c")
    h.clock.advance(60)
    h.wait_count("c", "ScheduleExecutionEnded", 1)
    h.restart(downtime)
    h.settle("c")


def test_catch_up_skip_fires_nothing_and_moves_on(harness: Harness) -> None:
    h = harness
    outage(h, "skip")
    assert h.fired_at("c") == [at(60)]
    (skipped,) = h.events("c", "ScheduleSkipped")
    assert (skipped.first_fire_at, skipped.fire_at, skipped.reason, skipped.cause) == (
        at(120),
        at(660),
        "catch_up",
        "catch_up",
    )
    assert h.settle("c").next_fire_times[0] == at(720)
    h.clock.advance(60)
    h.wait_count("c", "ScheduleTriggered", 2)
    assert h.fired_at("c") == [at(60), at(720)]


def test_catch_up_one_fires_the_first_missed_tick_once(harness: Harness) -> None:
    h = harness
    outage(h, "one")
    h.wait_count("c", "ScheduleTriggered", 2)
    assert h.fired_at("c") == [at(60), at(120)]
    assert h.triggered("c")[-1].cause == "catch_up"
    skips = h.events("c", "ScheduleSkipped")
    assert len(skips) == 1, [(s.first_fire_at, s.fire_at, s.reason, s.cause) for s in skips]
    (skipped,) = skips
    assert (skipped.first_fire_at, skipped.fire_at) == (at(180), at(660))
    assert h.settle("c").next_fire_times[0] == at(720)


def test_catch_up_all_fires_every_missed_tick(harness: Harness) -> None:
    h = harness
    outage(h, "all", overlap_policy="allow_all")
    assert h.fired_at("c") == [at(60 * k) for k in range(1, 12)]
    assert {e.cause for e in h.triggered("c")[1:]} == {"catch_up"}
    assert h.events("c", "ScheduleSkipped") == []
    assert h.settle("c").next_fire_times[0] == at(720)


def test_catch_up_all_still_applies_the_overlap_policy(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60, catch_up_policy="all"), schedule_id="w")  # waiter, skip
    h.clock.advance(60)
    h.wait_count("w", "ScheduleTriggered", 1)
    h.restart(300)
    h.settle("w")
    assert h.fired_at("w") == [at(60)]
    assert [e.fire_at for e in h.events("w", "ScheduleSkipped")] == [
        at(60 * k) for k in range(2, 7)
    ]


def test_catch_up_window_skips_ticks_older_than_it(harness: Harness) -> None:
    h = harness
    outage(h, "all", overlap_policy="allow_all", catch_up_window_seconds=150)
    late = [e for e in h.events("c", "ScheduleSkipped") if e.reason == "late"]
    # down until 00:11; the window reaches back to 00:08:30
    assert [(e.first_fire_at, e.fire_at) for e in late] == [(at(120), at(480))]
    assert h.fired_at("c") == [at(60), at(540), at(600), at(660)]


def test_restarts_neither_duplicate_nor_miss_a_tick(harness: Harness) -> None:
    h = harness
    h.schedules.create(
        every(60, "sched_quick", catch_up_policy="all", overlap_policy="allow_all"),
        schedule_id="r",
    )
    expected = []
    for round_ in range(1, 7):
        h.clock.advance(60)
        expected.append(at(60 * len(expected) + 60))
        h.wait_count("r", "ScheduleTriggered", len(expected))
        if round_ % 2 == 0:
            h.restart()  # right after a tick
        else:
            h.restart(120)  # with two ticks missed
            expected += [at(60 * len(expected) + 60), at(60 * len(expected) + 120)]
            h.wait_count("r", "ScheduleTriggered", len(expected))
    h.settle("r")
    fired = h.fired_at("r")
    assert fired == expected
    ids = [e.triggered_workflow_id for e in h.triggered("r")]
    assert len(set(ids)) == len(ids)
    assert sorted(h.engine.store.list_workflow_ids()) == sorted([*ids, "schedule:r"])


def test_a_run_started_before_a_crash_is_recorded_not_started_again(harness: Harness) -> None:
    """The process died after starting the tick's run and before recording it."""
    h = harness
    h.schedules.create(every(60, catch_up_policy="skip"), schedule_id="x")
    h.schedules.stop()
    wid = tick_workflow_id("x", at(60))
    handle = h.engine.start_workflow("sched_waiter", workflow_id=wid)
    h.clock.advance(60)
    h.schedules.stop()
    h.engine.shutdown()
    h.open()
    state = h.settle("x")
    (triggered,) = h.triggered("x")
    assert (triggered.triggered_workflow_id, triggered.triggered_run_id) == (wid, handle.run_id)
    assert [e.type for e in h.engine.history(wid)].count("WorkflowStarted") == 1
    assert [e.workflow_id for e in state.current_executions] == [wid]
    assert h.events("x", "ScheduleSkipped") == []  # recorded, although catch-up says skip


@dataclasses.dataclass
class CrashAfterStart:
    """A starter that starts the run, then fails before the actor can record it."""

    inner: WorkflowStarter
    crashes: int = 1

    def find(self, workflow_id: str) -> StartedRun | None:
        return self.inner.find(workflow_id)

    def start(self, workflow_id: str, schedule_id: str, config: ScheduleConfig) -> StartedRun:
        run = self.inner.start(workflow_id, schedule_id, config)
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("injected crash between start and record")
        return run


@pytest.mark.parametrize("policy", ["skip", "one", "all"])
def test_an_actor_crash_between_start_and_record_is_repaired(tmp_path: Path, policy) -> None:
    clock = ManualClock(at(0))
    starter: list[CrashAfterStart] = []

    def wrap(seams: Seams) -> Seams:
        starter.append(CrashAfterStart(seams.starter))
        return dataclasses.replace(seams, starter=starter[-1])

    h = Harness(tmp_path / "crash.db", clock, wrap_seams=wrap)
    try:
        h.schedules.create(every(60, catch_up_policy=policy), schedule_id="k")
        clock.advance(60)  # the actor starts the run, crashes, is restarted, and catches up
        (triggered,) = h.wait_count("k", "ScheduleTriggered", 1)
        wid = tick_workflow_id("k", at(60))
        assert triggered.triggered_workflow_id == wid and triggered.cause == "catch_up"
        assert starter[0].crashes == 0
        assert [e.type for e in h.engine.history(wid)].count("WorkflowStarted") == 1
        h.clock.advance(60)  # the restarted actor keeps ticking (skip: the run still runs)
        h.wait_count("k", "ScheduleSkipped", 1)
        h.finish(wid)
        h.clock.advance(60)
        h.wait_count("k", "ScheduleTriggered", 2)
        assert h.fired_at("k") == [at(60), at(180)]
    finally:
        h.close()


def test_buffered_tick_survives_a_restart_and_an_ending_while_down(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60, overlap_policy="buffer_one"), schedule_id="bf")
    h.tick(60, "bf")
    h.tick(60, "bf")
    first = tick_workflow_id("bf", at(60))
    h.restart()
    assert [b.fire_at for b in h.settle("bf").buffered] == [at(120)]
    h.schedules.stop()  # the run ends while no schedule actor is listening
    h.engine.signal(first, "finish")
    h.engine.result(first, timeout=20)
    h.schedules = type(h.schedules).start(h.engine)
    (_, released) = h.wait_count("bf", "ScheduleTriggered", 2)
    assert (released.triggered_workflow_id, released.cause) == (
        tick_workflow_id("bf", at(120)),
        "buffered",
    )
    ended = h.events("bf", "ScheduleExecutionEnded")
    assert [(e.triggered_workflow_id, e.status) for e in ended] == [(first, "Completed")]
