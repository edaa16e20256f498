"""The engine's task queues: claim, heartbeat, complete, fail, lose, timeouts, recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aionactors import Engine
from aionactors.core import events as ev
from aionactors.core.payload import ActivityError, ActivityErrorKind
from aionactors.engine.clock import ManualClock
from aionactors.engine.task_queues import RemoteTask
from aionactors.store import SQLiteStore
from tests.workers import remote_workflows as rw

TYPES = {"charge", "flaky", "hold"}


def open_engine(path: Path, clock: ManualClock) -> Engine:
    return Engine.open(SQLiteStore(path), workflows=rw.WORKFLOWS, clock=clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(tmp_path: Path, clock: ManualClock) -> Iterator[Engine]:
    engine = open_engine(tmp_path / "tq.db", clock)
    yield engine
    engine.shutdown()


def claim(engine: Engine, worker: str = "w1", namespace: str = "default") -> RemoteTask:
    """Wait (bounded) until a task is queued, and claim it."""
    for _ in range(500):
        task = engine.task_queues.claim(namespace, rw.QUEUE, TYPES, worker)
        if task is not None:
            return task
        time.sleep(0.01)
    raise AssertionError("no task was queued")


def wait_queued(engine: Engine, size: int = 1) -> None:
    """Wait (bounded) until the queue holds ``size`` unclaimed tasks."""
    for _ in range(500):
        if engine.task_queues.backlog().get(("default", rw.QUEUE)) == size:
            return
        time.sleep(0.01)
    raise AssertionError(f"the queue never held {size} task(s)")


def attempts(engine: Engine, workflow_id: str) -> list[Any]:
    return [
        (type(e).__name__, getattr(e, "attempt", None))
        for e in engine.store.read_history(workflow_id)
        if isinstance(e, ev.ActivityStarted | ev.ActivityFailed | ev.ActivityCompleted)
    ]


def test_a_task_waits_until_claimed_then_completes(engine: Engine) -> None:
    engine.start_workflow("pay", 1, workflow_id="p1")
    first = claim(engine)
    assert first.task.activity_type == "charge" and first.task.attempt == 1
    assert engine.describe("p1").pending_activities[0]["worker"] == "w1"
    assert engine.task_queues.complete(first.task_id, {"ok": 0})
    assert not engine.task_queues.complete(first.task_id, {"ok": "again"})  # duplicate: ignored
    for i in (1, 2):
        engine.task_queues.complete(claim(engine).task_id, {"ok": i})
    assert engine.result("p1", timeout=10) == [{"ok": 0}, {"ok": 1}, {"ok": 2}]


def test_retryable_failure_is_retried_and_terminal_is_not(engine: Engine) -> None:
    engine.start_workflow("pay_flaky", "m", workflow_id="f1")
    error = ActivityError(kind=ActivityErrorKind.RETRYABLE, message="boom", type="X")
    assert engine.task_queues.fail(claim(engine).task_id, error)
    second = claim(engine)
    assert second.task.attempt == 2
    engine.task_queues.complete(second.task_id, "done")
    assert engine.result("f1", timeout=10) == "done"
    engine.start_workflow("pay_flaky", "t", workflow_id="f2")
    terminal = ActivityError(kind=ActivityErrorKind.TERMINAL, message="no", type="X")
    engine.task_queues.fail(claim(engine).task_id, terminal)
    with pytest.raises(Exception, match="no"):
        engine.result("f2", timeout=10)


def test_a_lost_worker_is_a_retryable_failure_and_its_late_result_is_ignored(
    engine: Engine,
) -> None:
    engine.start_workflow("pay_flaky", "m", workflow_id="l1")
    first = claim(engine, "w1")
    assert engine.task_queues.lose("w1") == 1
    second = claim(engine, "w2")
    assert second.task.attempt == 2
    assert not engine.task_queues.complete(first.task_id, "late")  # not current any more
    engine.task_queues.complete(second.task_id, "from w2")
    assert engine.result("l1", timeout=10) == "from w2"
    failed = [e for e in engine.store.read_history("l1") if isinstance(e, ev.ActivityFailed)]
    assert [f.error.type for f in failed] == ["WorkerLost"]
    assert "worker lost" in failed[0].error.message


def test_heartbeat_timeout_cancels_the_worker_and_retries(
    engine: Engine, clock: ManualClock
) -> None:
    cancels: list[tuple[str, str, str]] = []
    engine.task_queues.on_cancel(lambda *args: cancels.append(args))
    engine.start_workflow("pay_held", "/nonexistent", workflow_id="h1")
    first = claim(engine)
    clock.advance(20)
    assert engine.task_queues.heartbeat(first.task_id, "alive")
    clock.advance(20)  # 20 s since the heartbeat: within 30 s
    assert engine.task_queues.heartbeat(first.task_id)
    clock.advance(31)
    second = claim(engine, "w2")
    assert second.task.attempt == 2
    assert cancels == [("w1", first.task_id, "heartbeat_timeout")]
    assert not engine.task_queues.heartbeat(first.task_id)


def test_workflow_cancel_tells_the_holder(engine: Engine) -> None:
    cancels: list[tuple[str, str, str]] = []
    engine.task_queues.on_cancel(lambda *args: cancels.append(args))
    engine.start_workflow("pay_held", "/nonexistent", workflow_id="c1")
    held = claim(engine)
    engine.cancel("c1")
    for _ in range(500):
        if cancels:
            break
        time.sleep(0.01)
    assert cancels == [("w1", held.task_id, "cancelled")]


def test_after_a_restart_the_unfinished_attempt_is_requeued(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "r.db", ManualClock())
    engine.start_workflow("pay_flaky", "m", workflow_id="r1")
    stale = claim(engine)
    engine.shutdown()
    engine = open_engine(tmp_path / "r.db", ManualClock())
    try:
        requeued = claim(engine)
        assert requeued.task.attempt == 2
        assert not engine.task_queues.complete(stale.task_id, "stale")
        engine.task_queues.complete(requeued.task_id, "fresh")
        assert engine.result("r1", timeout=10) == "fresh"
        assert attempts(engine, "r1") == [
            ("ActivityStarted", 1),
            ("ActivityStarted", 2),
            ("ActivityCompleted", 2),
        ]
    finally:
        engine.shutdown()


def test_tasks_are_scoped_by_namespace_and_queue(engine: Engine) -> None:
    engine.start_workflow("pay", 1, workflow_id="n1", namespace="shop")
    claim(engine, namespace="shop")
    assert engine.task_queues.claim("default", rw.QUEUE, TYPES, "w1") is None
    assert engine.task_queues.claim("shop", "other", TYPES, "w1") is None


def test_an_unclaimed_task_times_out_schedule_to_start_and_is_not_retried(
    engine: Engine, clock: ManualClock
) -> None:
    engine.start_workflow("pay_soon", 7, workflow_id="sts1")
    wait_queued(engine)
    clock.advance(59)
    assert engine.task_queues.backlog()[("default", rw.QUEUE)] == 1  # not yet
    clock.advance(2)
    with pytest.raises(Exception, match="schedule_to_start timeout"):
        engine.result("sts1", timeout=10)
    failed = [e for e in engine.store.read_history("sts1") if isinstance(e, ev.ActivityFailed)]
    assert [(f.attempt, f.error.type, f.error.kind) for f in failed] == [
        (1, "ScheduleToStartTimeout", ActivityErrorKind.TERMINAL)
    ]  # retry policy allows 5 attempts: a schedule-to-start timeout is not retried
    assert "no worker claimed it" in failed[0].error.message
    assert attempts(engine, "sts1") == [("ActivityStarted", 1), ("ActivityFailed", 1)]
    assert engine.task_queues.backlog()[("default", rw.QUEUE)] == 0
    assert engine.task_queues.claim("default", rw.QUEUE, TYPES, "late") is None


def test_a_task_claimed_in_time_is_not_timed_out_schedule_to_start(
    engine: Engine, clock: ManualClock
) -> None:
    engine.start_workflow("pay_soon", 8, workflow_id="sts2")
    held = claim(engine)
    clock.advance(120)  # past the schedule-to-start deadline, but it was claimed
    assert engine.task_queues.complete(held.task_id, "charged")
    assert engine.result("sts2", timeout=10) == "charged"
    assert attempts(engine, "sts2") == [("ActivityStarted", 1), ("ActivityCompleted", 1)]
