"""The reference evaluator's behaviours, over in-memory seams, minus its stated gaps.

Where the reference differs on purpose: cancel_previous really cancels, a
buffered tick is released when the run ends, and recovery checks the real
status of current runs instead of forgetting them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aionactors.core.errors import ScheduleNotFound
from aionactors.core.schedules import ScheduleConfig
from aionactors.schedule import messages as msg
from tests.schedule.fakes import Evaluator
from tests.schedule.support import at


def config(**fields) -> ScheduleConfig:
    return ScheduleConfig.model_validate(
        {"spec": {"every_seconds": 60}, "workflow_type": "job", **fields}
    )


@pytest.fixture
def ev() -> Iterator[Evaluator]:
    evaluator = Evaluator(at(0)).start()
    yield evaluator
    evaluator.stop()


def test_unknown_schedule_is_not_found(ev: Evaluator) -> None:
    with pytest.raises(ScheduleNotFound):
        ev.describe()
    with pytest.raises(ScheduleNotFound):
        ev.ask(msg.TriggerNow())
    ev.timer.advance(60)
    ev.ref.tell(msg.Wake())  # a wake for no schedule does nothing
    with pytest.raises(ScheduleNotFound):
        ev.describe()
    assert ev.histories.types("s") == []


def test_create_arms_the_timer_at_the_next_fire_time(ev: Evaluator) -> None:
    state = ev.ask(msg.Create(config()))
    assert state.next_fire_times[:3] == [at(60), at(120), at(180)]
    assert ev.timer.armed == [at(60)]


def test_fire_with_nothing_running_starts_records_and_rearms(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(input={"k": 1})))
    state = ev.tick(60)
    assert ev.starter.starts == ["s/2026-01-01T00:01:00Z"]
    assert ev.histories.types("s") == ["ScheduleCreated", "ScheduleTriggered"]
    assert state.last_fire_at == at(60) and ev.timer.armed == [at(120)]


def test_inactive_schedules_do_nothing_and_are_not_armed(ev: Evaluator) -> None:
    ev.ask(msg.Create(config()))
    ev.ask(msg.Pause())
    assert ev.timer.armed == []
    ev.tick(600)
    assert ev.starter.starts == []
    ev.ask(msg.Delete())
    ev.timer.advance(600)
    with pytest.raises(ScheduleNotFound):
        ev.describe()
    assert ev.histories.types("s") == ["ScheduleCreated", "SchedulePaused", "ScheduleDeleted"]


def test_skip_when_current_is_running(ev: Evaluator) -> None:
    ev.ask(msg.Create(config()))
    ev.tick(60)
    state = ev.tick(60)
    assert len(ev.starter.starts) == 1 and state.skipped_count == 1
    assert ev.timer.armed == [at(180)]


def test_buffer_one_buffers_one_skips_the_second_and_releases_on_end(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(overlap_policy="buffer_one")))
    ev.tick(60)
    assert [b.fire_at for b in ev.tick(60).buffered] == [at(120)]
    state = ev.tick(60)
    assert [b.fire_at for b in state.buffered] == [at(120)] and state.skipped_count == 1
    state = ev.ended("s/2026-01-01T00:01:00Z")
    assert ev.starter.starts[-1] == "s/2026-01-01T00:02:00Z"
    assert state.buffered == [] and len(state.current_executions) == 1


def test_cancel_previous_cancels_then_starts(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(overlap_policy="cancel_previous")))
    ev.tick(60)
    state = ev.tick(60)
    assert ev.canceller.calls == [("s/2026-01-01T00:01:00Z", False)]
    assert [e.workflow_id for e in state.current_executions] == ["s/2026-01-01T00:02:00Z"]
    assert state.recent_executions[1].status == "Cancelled"


def test_terminate_previous_terminates_then_starts(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(overlap_policy="terminate_previous")))
    ev.tick(60)
    ev.tick(60)
    assert ev.canceller.calls == [("s/2026-01-01T00:01:00Z", True)]


def test_allow_all_starts_while_current_runs(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(overlap_policy="allow_all")))
    ev.tick(60)
    assert len(ev.tick(60).current_executions) == 2


def test_a_start_refused_by_the_engine_is_recorded_as_skipped(ev: Evaluator) -> None:
    ev.ask(msg.Create(config(workflow_type="missing")))
    state = ev.tick(60)
    (skipped,) = [e for e in ev.histories.read_history("schedule:s") if e.type == "ScheduleSkipped"]
    assert skipped.reason == "start_failed" and "missing" in skipped.detail
    assert state.next_fire_times[0] == at(120)


@pytest.mark.parametrize(
    ("policy", "starts", "next_fire"),
    [("all", 5, at(360)), ("one", 1, at(360)), ("skip", 0, at(360))],
)
def test_recovery_rebuilds_catches_up_and_rearms(policy, starts, next_fire) -> None:
    ev = Evaluator(at(0)).start()
    ev.ask(msg.Create(config(catch_up_policy=policy, overlap_policy="allow_all")))
    ev.stop()
    ev.timer.advance(330)  # five ticks (00:01 .. 00:05) pass with no evaluator
    ev.start()
    state = ev.describe()
    assert len(ev.starter.starts) == starts
    if policy == "one":
        assert ev.starter.starts == ["s/2026-01-01T00:01:00Z"]  # the first missed instant
    assert state.next_fire_times[0] == next_fire and ev.timer.armed == [next_fire]
    ev.stop()


def test_recovery_keeps_runs_that_still_run_and_ends_those_that_ended() -> None:
    ev = Evaluator(at(0)).start()
    ev.ask(msg.Create(config(overlap_policy="allow_all")))
    ev.tick(60)
    ev.tick(60)
    ev.stop()
    ev.starter.end("s/2026-01-01T00:01:00Z", "Failed")
    ev.start()
    state = ev.describe()
    assert [e.workflow_id for e in state.current_executions] == ["s/2026-01-01T00:02:00Z"]
    assert {e.workflow_id: e.status for e in state.recent_executions} == {
        "s/2026-01-01T00:01:00Z": "Failed",
        "s/2026-01-01T00:02:00Z": "Running",
    }
    ev.stop()


def test_paused_schedules_are_not_armed_after_recovery() -> None:
    ev = Evaluator(at(0)).start()
    ev.ask(msg.Create(config()))
    ev.ask(msg.Pause())
    ev.stop()
    ev.timer.advance(600)
    ev.start()
    assert ev.describe().paused and ev.timer.armed == [] and ev.starter.starts == []
    ev.stop()
