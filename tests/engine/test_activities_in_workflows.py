"""Engine-side retries, exhaustion, non-retryable errors, timeouts and activity cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aionactors import RetryPolicy, WorkflowFailedError, workflow
from aionactors.core.payload import ActivityErrorKind
from tests.engine import workflows as w
from tests.engine.conftest import ALL_ACTIVITIES, ALL_WORKFLOWS
from tests.engine.support import CommitWatch, assert_histories_replay, open_engine


def attempts_of(history, activity_id: int = 0) -> list[tuple[str, int, str | None]]:
    trail = []
    for event in history:
        if getattr(event, "activity_id", None) != activity_id:
            continue
        kind = event.error.kind.value if event.type == "ActivityFailed" else None
        trail.append((event.type, getattr(event, "attempt", 0), kind))
    return trail


def test_retries_back_off_on_the_clock_and_then_succeed(engine, watch, clock) -> None:
    w.FLAKY_FAILURES["k"] = 2
    engine.start_workflow(w.Retrying, "k", workflow_id="r")
    watch.has("r", "ActivityStarted", 2)
    assert w.EXECUTIONS[("r:flaky", 2)] == 0  # waiting out the 1 s backoff
    clock.advance(1)
    watch.has("r", "ActivityStarted", 3)
    clock.advance(1.5)  # 2 s backoff not over yet
    assert w.EXECUTIONS[("r:flaky", 3)] == 0
    clock.advance(0.5)
    assert engine.result("r", timeout=20) == "ok after 3 attempts"
    assert attempts_of(engine.history("r")) == [
        ("ActivityScheduled", 0, None),
        ("ActivityStarted", 1, None),
        ("ActivityFailed", 1, "Retryable"),
        ("ActivityStarted", 2, None),
        ("ActivityFailed", 2, "Retryable"),
        ("ActivityStarted", 3, None),
        ("ActivityCompleted", 3, None),
    ]
    assert [w.EXECUTIONS[("r:flaky", n)] for n in (1, 2, 3)] == [1, 1, 1]


def test_exhausted_retries_fail_the_workflow_with_the_last_error(engine, watch, clock) -> None:
    w.FLAKY_FAILURES["x"] = 10
    engine.start_workflow(w.Retrying, "x", workflow_id="x")
    for attempt in (2, 3, 4):
        watch.has("x", "ActivityStarted", attempt)
        clock.advance(10)
    with pytest.raises(WorkflowFailedError, match="flaky failure, 7 left") as failed:
        engine.result("x", timeout=20)
    assert failed.value.failure_type == "ActivityFailure"
    trail = attempts_of(engine.history("x"))
    assert trail[-1] == ("ActivityFailed", 4, "Terminal")
    assert sum(1 for t in trail if t[0] == "ActivityStarted") == 4


@workflow.defn(name="declined")
class Declined:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity(
                w.rejects, "no funds", retry_policy=RetryPolicy(maximum_attempts=5)
            )
        except workflow.ActivityFailure as failure:
            return f"compensated: {failure.type}: {failure.message}"
        return "charged"


@workflow.defn(name="timeboxed")
class Timeboxed:
    @workflow.run
    async def run(self) -> str:
        try:
            return await workflow.execute_activity(
                w.blocks_until_released,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=2, initial_interval=5),
            )
        except workflow.ActivityFailure as failure:
            return f"gave up: {failure.type}"


@workflow.defn(name="racer")
class Racer:
    @workflow.run
    async def run(self) -> list:
        index, value = await workflow.race(
            workflow.execute_activity(w.blocks_until_released, heartbeat_timeout=60),
            workflow.sleep(timedelta(seconds=10)),
        )
        return [index, value]


@workflow.defn(name="races_then_continues")
class RacesThenContinues:
    """Run 0 loses its activity to a timer and continues as new in that step; run 1 reuses
    activity id 0, so run 0's cancellation outcome must not be taken for run 1's."""

    @workflow.run
    async def run(self, n: int) -> object:
        if n == 0:
            await workflow.race(
                workflow.execute_activity(w.blocks_until_released, heartbeat_timeout=60),
                workflow.sleep(timedelta(seconds=10)),
            )
            workflow.continue_as_new(1)
        return await workflow.execute_activity(w.blocks_until_released, heartbeat_timeout=60)


@pytest.fixture
def engine(db_path, clock):
    engine = open_engine(
        db_path,
        clock,
        workflows=[*ALL_WORKFLOWS, Declined, Timeboxed, Racer, RacesThenContinues],
        activities=ALL_ACTIVITIES,
    )
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


@pytest.fixture
def watch(engine):
    return CommitWatch(engine)


def test_non_retryable_error_is_terminal_at_once_and_catchable(engine) -> None:
    engine.start_workflow(Declined, workflow_id="d")
    assert engine.result("d", timeout=20) == "compensated: CardDeclined: no funds"
    failed = [e for e in engine.history("d") if e.type == "ActivityFailed"]
    assert len(failed) == 1 and failed[0].error.kind == ActivityErrorKind.TERMINAL


def test_start_to_close_timeout_is_enforced_then_retried(engine, watch, clock) -> None:
    engine.start_workflow(Timeboxed, workflow_id="t")
    assert w.RUNNING.wait(20)
    w.RUNNING.clear()
    clock.advance(30)
    watch.has("t", "ActivityStarted", 2)
    clock.advance(5)  # backoff
    assert w.RUNNING.wait(20)
    clock.advance(30)  # second attempt times out too
    assert engine.result("t", timeout=20) == "gave up: ActivityTimeout"
    failures = [e for e in engine.history("t") if e.type == "ActivityFailed"]
    assert [(f.attempt, f.error.kind.value, f.error.type) for f in failures] == [
        (1, "Retryable", "ActivityTimeout"),
        (2, "Terminal", "ActivityTimeout"),
    ]


def test_race_loser_activity_is_cancelled_and_sees_it(engine, watch, clock) -> None:
    engine.start_workflow(Racer, workflow_id="race")
    watch.has("race", "TimerStarted")
    assert w.RUNNING.wait(20)
    clock.advance(10)
    assert engine.result("race", timeout=20) == [1, None]
    types = [e.type for e in engine.history("race")]
    assert "ActivityCancelled" in types and types.index("TimerFired") < types.index(
        "ActivityCancelled"
    )
    assert w.SAW_CANCEL.wait(20)  # the activity itself saw the cancellation
    assert engine.executor.in_flight("race", 0) is None


def test_an_outcome_of_the_previous_run_is_not_taken_for_the_next_runs(
    engine, watch, clock
) -> None:
    engine.start_workflow(RacesThenContinues, 0, workflow_id="can")
    watch.has("can", "TimerStarted")
    assert w.RUNNING.wait(20)
    w.RUNNING.clear()
    clock.advance(10)  # the timer wins: run 0 cancels activity 0 and continues as new
    watch.has("can", "WorkflowContinuedAsNew")
    assert w.RUNNING.wait(20)  # run 1's activity 0 is running
    assert w.SAW_CANCEL.wait(20)  # run 0's was cancelled, and its outcome has been reported
    w.RELEASE.set()
    assert engine.result("can", timeout=20) == "released"
    history = engine.history("can")
    run_1 = history[[e.type for e in history].index("WorkflowContinuedAsNew") + 1 :]
    assert "ActivityCancelled" not in [e.type for e in run_1]
