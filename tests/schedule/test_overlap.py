"""Every overlap policy against a long-running execution, end to end on a real engine."""

from __future__ import annotations

from tests.schedule.support import Harness, at, every

WID1 = "s/2026-01-01T00:01:00Z"
WID2 = "s/2026-01-01T00:02:00Z"
WID3 = "s/2026-01-01T00:03:00Z"


def first_run(h: Harness, policy: str) -> None:
    h.schedules.create(every(60, overlap_policy=policy), schedule_id="s")
    h.tick(60, "s")
    assert [e.triggered_workflow_id for e in h.triggered("s")] == [WID1]
    assert h.status(WID1) == "Running"


def test_skip_skips_while_running_then_fires_again(harness: Harness) -> None:
    h = harness
    first_run(h, "skip")
    state = h.tick(60, "s")
    (skipped,) = h.events("s", "ScheduleSkipped")
    assert (skipped.fire_at, skipped.reason) == (at(120), "overlap")
    assert [e.workflow_id for e in state.current_executions] == [WID1]
    assert state.skipped_count == 1
    h.finish(WID1)
    h.tick(60, "s")
    assert [e.triggered_workflow_id for e in h.triggered("s")] == [WID1, WID3]


def test_buffer_one_buffers_one_skips_the_next_and_releases_on_completion(harness) -> None:
    h = harness
    first_run(h, "buffer_one")
    h.tick(60, "s")
    state = h.tick(60, "s")
    assert [b.fire_at for b in state.buffered] == [at(120)]
    (skipped,) = h.events("s", "ScheduleSkipped")
    assert (skipped.fire_at, skipped.reason) == (at(180), "overlap")
    h.finish(WID1)
    released = h.wait_count("s", "ScheduleTriggered", 2)[-1]
    assert (released.triggered_workflow_id, released.fire_at, released.cause) == (
        WID2,
        at(120),
        "buffered",
    )
    state = h.settle("s")
    assert state.buffered == [] and [e.workflow_id for e in state.current_executions] == [WID2]
    assert h.status(WID2) == "Running"


def test_buffer_all_releases_every_buffered_tick_in_order(harness) -> None:
    h = harness
    first_run(h, "buffer_all")
    h.tick(60, "s")
    state = h.tick(60, "s")
    assert [b.fire_at for b in state.buffered] == [at(120), at(180)]
    assert h.events("s", "ScheduleSkipped") == []
    h.finish(WID1)
    h.wait_count("s", "ScheduleTriggered", 2)
    h.finish(WID2)
    h.wait_count("s", "ScheduleTriggered", 3)
    assert [e.triggered_workflow_id for e in h.triggered("s")] == [WID1, WID2, WID3]
    assert [e.cause for e in h.triggered("s")] == ["scheduled", "buffered", "buffered"]
    assert h.settle("s").buffered == []


def test_cancel_previous_really_cancels_then_starts(harness) -> None:
    h = harness
    first_run(h, "cancel_previous")
    state = h.tick(60, "s")
    assert h.status(WID1) == "Cancelled"
    assert h.status(WID2) == "Running"
    assert [e.workflow_id for e in state.current_executions] == [WID2]
    ended = h.events("s", "ScheduleExecutionEnded")
    assert [(e.triggered_workflow_id, e.status) for e in ended] == [(WID1, "Cancelled")]
    history = h.engine.history(WID1)
    assert "WorkflowCancelled" in [e.type for e in history]
    assert (
        "cancelled by schedule 's'"
        in next(e for e in history if e.type == "WorkflowCancelled").reason
    )


def test_terminate_previous_really_terminates_then_starts(harness) -> None:
    h = harness
    first_run(h, "terminate_previous")
    h.tick(60, "s")
    assert h.status(WID1) == "Cancelled"
    assert h.status(WID2) == "Running"
    reason = next(e for e in h.engine.history(WID1) if e.type == "WorkflowCancelled").reason
    assert reason.startswith("terminated by schedule 's'")
    # the next tick terminates the second run the same way
    h.tick(60, "s")
    assert h.status(WID2) == "Cancelled" and h.status(WID3) == "Running"


def test_allow_all_runs_concurrently(harness) -> None:
    h = harness
    first_run(h, "allow_all")
    h.tick(60, "s")
    state = h.tick(60, "s")
    assert [e.workflow_id for e in state.current_executions] == [WID1, WID2, WID3]
    assert all(h.status(w) == "Running" for w in (WID1, WID2, WID3))
    h.finish(WID2)
    state = h.settle("s")
    assert [e.workflow_id for e in state.current_executions] == [WID1, WID3]
    assert {e.workflow_id: e.status for e in state.recent_executions}[WID2] == "Completed"


def test_quick_runs_never_overlap_under_skip(harness) -> None:
    h = harness
    h.schedules.create(every(60, "sched_quick", input={"n": 1}), schedule_id="q")
    for n in range(1, 4):
        h.clock.advance(60)
        h.wait_count("q", "ScheduleExecutionEnded", n)
    assert h.fired_at("q") == [at(60), at(120), at(180)]
    assert h.events("q", "ScheduleSkipped") == []
    assert h.engine.result("q/2026-01-01T00:03:00Z", timeout=20) == {"n": 1}
