"""Child workflows, continue-as-new, cancel with compensation, reopen, pause, timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from aionactors import WorkflowCancelledError, WorkflowFailedError, WorkflowStatus
from aionactors.core.errors import InvalidState, NotRunning
from aionactors.engine.clock import ManualClock
from aionactors.engine.outcomes import WorkflowTimedOutError
from tests.engine import lifecycle_workflows as lw
from tests.engine.support import CommitWatch, assert_histories_replay, open_engine


@pytest.fixture(autouse=True)
def _reset() -> None:
    lw.CALLS.clear()
    lw.FAIL_BOOKING.clear()
    lw.HOLD_RELEASE.clear()
    lw.RELEASE_RUNNING.clear()


def lifecycle_engine(path, clock, **kwargs):
    return open_engine(
        path,
        clock,
        workflows=lw.LIFECYCLE_WORKFLOWS,
        activities=lw.LIFECYCLE_ACTIVITIES,
        **kwargs,
    )


@pytest.fixture
def engine(db_path, clock):
    engine = lifecycle_engine(db_path, clock)
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


@pytest.fixture
def watch(engine):
    return CommitWatch(engine)


def test_child_workflow_is_recorded_before_it_starts_and_its_result_wakes_the_parent(
    engine, watch
) -> None:
    engine.start_workflow(lw.Order, {"id": "o1", "hurry": True}, workflow_id="order-1")
    result = engine.result("order-1", timeout=20)
    assert result == {"reservation": "reservation-o1", "shipped": "shipped o1 fast"}
    parent = engine.history("order-1")
    types = [e.type for e in parent]
    assert types.index("ChildWorkflowStarted") < types.index("SignalSent")
    assert types.index("ChildWorkflowCompleted") < types.index("WorkflowCompleted")
    child = engine.describe("ship-o1").summary
    assert child.parent == "order-1" and child.status == WorkflowStatus.COMPLETED
    committed = [(c.event.workflow_id, c.event.type) for c in engine.store.read_committed(0)]
    assert committed.index(("order-1", "ChildWorkflowStarted")) < committed.index(
        ("ship-o1", "WorkflowStarted")
    )


def test_an_evicted_child_that_ends_later_still_wakes_its_parent(db_path, clock) -> None:
    engine = lifecycle_engine(db_path, clock, idle_seconds=0)
    try:
        watch = CommitWatch(engine)
        engine.start_workflow(lw.Order, {"id": "o2"}, workflow_id="order-2")
        watch.has("ship-o2", "TimerStarted")  # the child is parked on its one-hour wait
        engine.evict_idle()
        assert not engine.residency.is_resident("ship-o2")
        engine.signal("ship-o2", "hurry")  # rehydrates the child, which then ends
        assert engine.result("order-2", timeout=20)["shipped"] == "shipped o2 fast"
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


def test_one_actor_thread_runs_parents_children_and_activities(db_path, clock) -> None:
    engine = lifecycle_engine(db_path, clock, actor_threads=1)
    try:
        for n in range(5):
            engine.start_workflow(lw.Order, {"id": f"t{n}", "hurry": True}, workflow_id=f"o-{n}")
        for n in range(5):
            assert engine.result(f"o-{n}", timeout=20)["shipped"] == f"shipped t{n} fast"
        assert engine.dispatcher.size == 1
    finally:
        engine.shutdown()


def test_actor_threads_must_be_positive(db_path, clock) -> None:
    with pytest.raises(ValidationError, match="actor_threads"):
        lifecycle_engine(db_path, clock, actor_threads=0)


def test_child_failure_is_raised_in_the_parent_which_compensates(engine) -> None:
    engine.start_workflow(lw.Order, {"id": "o2", "fail": True}, workflow_id="order-2")
    result = engine.result("order-2", timeout=20)
    assert result == {"child_failed": "cannot ship o2", "compensated": "released reservation-o2"}
    assert any(e.type == "ChildWorkflowFailed" for e in engine.history("order-2"))


def test_cancel_lets_the_saga_compensate_and_its_return_completes_the_run(engine, watch) -> None:
    engine.start_workflow(lw.Order, {"id": "o3"}, workflow_id="order-3")
    watch.has("ship-o3", "TimerStarted")
    engine.cancel("order-3", "customer changed their mind")
    # The saga catches the cancellation, releases its reservation and returns: Completed,
    # and result() wakes only once the compensation is recorded.
    assert engine.result("order-3", timeout=20) == {"compensated": "released reservation-o3"}
    types = [e.type for e in engine.history("order-3")]
    requested_at = types.index("WorkflowCancelRequested")
    assert "ActivityScheduled" in types[requested_at:]  # the compensation ran after the request
    assert types[-1] == "WorkflowCompleted" and "WorkflowCancelled" not in types
    assert lw.CALLS["release:reservation-o3"] == 1
    assert engine.describe("order-3").summary.status == WorkflowStatus.COMPLETED
    watch.has("ship-o3", "WorkflowCancelled")  # the awaited child was cancelled too
    assert engine.describe("ship-o3").summary.status == WorkflowStatus.CANCELLED
    with pytest.raises(NotRunning):
        engine.cancel("order-3")


def test_compensation_interrupted_by_an_engine_restart_finishes_after_it(tmp_path) -> None:
    clock, path = ManualClock(), tmp_path / "saga.db"
    # No drain window: the held compensation is abandoned at once, as if the engine died.
    with lifecycle_engine(path, clock, drain_seconds=0) as first:
        watch = CommitWatch(first)
        first.start_workflow(lw.Order, {"id": "o4"}, workflow_id="order-4")
        watch.has("ship-o4", "TimerStarted")
        lw.HOLD_RELEASE.set()  # the compensation will hang until this engine goes away
        first.cancel("order-4", "stop")
        assert lw.RELEASE_RUNNING.wait(20)
        assert first.describe("order-4").summary.status == WorkflowStatus.RUNNING
    lw.HOLD_RELEASE.clear()
    with lifecycle_engine(path, clock) as second:
        assert second.result("order-4", timeout=20) == {"compensated": "released reservation-o4"}
        history = second.history("order-4")
    released = [e for e in history if e.type == "ActivityCompleted" and e.activity_id == 1]
    assert len(released) == 1 and released[0].attempt == 2  # attempt 1 died with the engine
    assert lw.CALLS["release:reservation-o4"] == 2


def test_continue_as_new_chain_survives_restarts(tmp_path) -> None:
    clock, path = ManualClock(), tmp_path / "chain.db"
    with lifecycle_engine(path, clock) as first:
        watch = CommitWatch(first)
        first.start_workflow(lw.Counter_, {"n": 0, "until": 4}, workflow_id="count")
        clock.advance(1)
        watch.has("count", "WorkflowContinuedAsNew")
        watch.has("count", "TimerStarted", 2)
    with lifecycle_engine(path, clock) as second:
        watch = CommitWatch(second)
        for runs in (2, 3, 4):
            clock.advance(1)
            watch.has("count", "WorkflowContinuedAsNew", runs)
            watch.has("count", "TimerStarted", runs + 1)
        clock.advance(1)
        assert second.result("count", timeout=20) == {"n": 4, "until": 4}
        chain = second.describe("count").runs
    assert len(chain) == 5
    assert [r.status for r in chain] == [WorkflowStatus.CONTINUED_AS_NEW] * 4 + [
        WorkflowStatus.COMPLETED
    ]
    assert all(chain[i + 1].parent_run_id == chain[i].run_id for i in range(4))


def test_reopen_after_failure_continues_the_attempt_trail_and_repeats(engine, watch) -> None:
    lw.FAIL_BOOKING.set()
    engine.start_workflow(lw.Booking, "b1", workflow_id="booking")
    with pytest.raises(WorkflowFailedError, match="booking service down"):
        engine.result("booking", timeout=20)
    state = engine.reopen("booking")
    assert state["status"] == "Running"
    with pytest.raises(WorkflowFailedError):
        engine.result("booking", timeout=20)
    lw.FAIL_BOOKING.clear()
    engine.reopen("booking")
    assert engine.result("booking", timeout=20) == "booked-b1"
    history = engine.history("booking")
    attempts = [e.attempt for e in history if e.type == "ActivityStarted"]
    assert attempts == [1, 2, 3, 4, 5]
    assert [e.reopened for e in history if e.type == "WorkflowReopened"] == [(0,), (0,)]
    with pytest.raises(InvalidState):
        engine.reopen("booking")


def test_reopen_of_a_cancelled_run_rearms_its_timers(engine, watch, clock) -> None:
    engine.start_workflow(lw.Slowpoke, workflow_id="slow", execution_timeout=10_000)
    watch.has("slow", "TimerStarted", 2)
    engine.cancel("slow", "oops", terminate=True)
    with pytest.raises(WorkflowCancelledError):
        engine.result("slow", timeout=20)
    engine.reopen("slow")
    clock.advance(timedelta(hours=1))
    assert engine.result("slow", timeout=20) == "too late"


def test_execution_timeout_ends_the_run_as_timed_out(engine, watch, clock) -> None:
    engine.start_workflow(lw.Slowpoke, workflow_id="late")
    watch.has("late", "TimerStarted", 2)
    clock.advance(61)
    with pytest.raises(WorkflowTimedOutError):
        engine.result("late", timeout=20)
    types = [e.type for e in engine.history("late")]
    timed_out = types.index("WorkflowTimedOut")
    # the sleep's timer is retired with the run (re-armed should it be reopened)
    assert types[timed_out + 1 :] == ["TimerCancelled"]
    assert engine.describe("late").summary.status == WorkflowStatus.TIMED_OUT


def test_pause_holds_dispatch_and_survives_restart(tmp_path) -> None:
    clock, path = ManualClock(), tmp_path / "pause.db"
    with lifecycle_engine(path, clock) as first:
        watch = CommitWatch(first)
        first.start_workflow(lw.Counter_, {"n": 0, "until": 0}, workflow_id="pp")
        watch.has("pp", "TimerStarted")
        assert first.pause("pp", reason="maintenance", operator="ops")["status"] == "Paused"
        with pytest.raises(InvalidState):
            first.pause("pp")
        assert "pp" not in first.store.list_active()
    with lifecycle_engine(path, clock) as second:
        assert second.describe("pp").summary.status == WorkflowStatus.PAUSED
        assert second.store.list_paused() == ["pp"]
        assert "pp" not in second.store.list_active()  # still paused after the restart
        clock.advance(1)  # the timer still fires and records while paused
        CommitWatch(second).has("pp", "TimerFired")
        # No activity to hold: the code finishes even while paused.
        assert second.result("pp", timeout=20) == {"n": 0, "until": 0}


def test_paused_workflow_holds_activity_dispatch_until_resumed(engine, watch) -> None:
    engine.start_workflow(lw.Order, {"id": "p1"}, workflow_id="held")
    watch.has("ship-p1", "TimerStarted")
    engine.pause("held")
    engine.cancel("ship-p1", terminate=True)
    # The child's end is recorded while paused; the compensation activity is scheduled but held.
    history = watch.has("held", "ActivityScheduled", 2)
    assert lw.CALLS["release:reservation-p1"] == 0
    assert engine.executor.in_flight("held", 1) is None
    assert history[-1].type in ("ActivityStarted", "ActivityScheduled")
    engine.resume("held")
    assert engine.result("held", timeout=20) == {"compensated": "released reservation-p1"}
    assert lw.CALLS["release:reservation-p1"] == 1
    types = [e.type for e in engine.history("held")]
    assert types.index("WorkflowPaused") < types.index("WorkflowResumed")


def test_upserted_search_attributes_are_queryable(engine, watch) -> None:
    for priority in range(5):
        engine.start_workflow(lw.Tagger, priority, workflow_id=f"tag-{priority}")
    for priority in range(5):
        watch.has(f"tag-{priority}", "SearchAttributesUpdated", 2)
    from aionactors.core.search import Contains, GreaterThan, IntValue

    high = engine.list_workflows(
        search_attributes=(GreaterThan(name="priority", value=IntValue(data=2)),)
    )
    assert sorted(s.workflow_id for s in high.workflows) == ["tag-3", "tag-4"]
    tagged = engine.count_workflows(search_attributes=(Contains(name="tags", keyword="b"),))
    assert tagged == 5
    engine.signal("tag-4", "set_tier", "gold")
    assert engine.result("tag-4", timeout=20) == 4
    assert engine.describe("tag-4").summary.search_attributes["tier"].data == "gold"


def test_a_declared_schema_rejects_unregistered_and_mistyped_attributes(db_path, clock) -> None:
    engine = lifecycle_engine(
        db_path, clock, search_attributes={"priority": "Int", "tags": "KeywordList"}
    )
    try:
        from aionactors.core.errors import InvalidInput

        with pytest.raises(InvalidInput, match="not registered"):
            engine.start_workflow(lw.Tagger, 1, search_attributes={"color": "red"})
        with pytest.raises(InvalidInput, match="must be Int"):
            engine.start_workflow(lw.Tagger, 1, search_attributes={"priority": "high"})
        assert engine.store.list_workflow_ids() == []  # nothing was written
        engine.start_workflow(lw.Tagger, 7, workflow_id="typed", search_attributes={"priority": 7})
        # The code's later upsert of 'tier' is not in the schema: the run fails, saying why.
        engine.signal("typed", "set_tier", "gold")
        with pytest.raises(WorkflowFailedError, match="'tier' is not registered"):
            engine.result("typed", timeout=20)
    finally:
        engine.shutdown()


def test_awaiting_a_child_follows_its_continue_as_new_chain(engine) -> None:
    engine.start_workflow(lw.RelayParent, workflow_id="relay-parent")
    assert engine.result("relay-parent", timeout=20) == "relayed"
    chain = engine.describe("relay-child").runs
    assert [r.status for r in chain] == [WorkflowStatus.CONTINUED_AS_NEW] * 2 + [
        WorkflowStatus.COMPLETED
    ]
    parent = [e.type for e in engine.history("relay-parent")]
    assert parent.count("ChildWorkflowCompleted") == 1


def test_continue_as_new_is_refused_while_work_is_unresolved(engine) -> None:
    engine.start_workflow(lw.Impatient, workflow_id="impatient")
    refusal = engine.result("impatient", timeout=20)
    assert refusal.startswith("continue_as_new refused: 1 activities")
    assert engine.describe("impatient").runs[0].status == WorkflowStatus.COMPLETED
