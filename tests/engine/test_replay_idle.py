"""Replay skips running workflow code for an event that wakes nothing, and only then.

An event wakes nothing when no task is ready and no ``wait_condition`` waits: a waiting
condition may read ``workflow.now()``, which every applied event moves, so it is checked
on every event (else the code would issue its next command one event late and the
history would no longer match it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aionactors import workflow
from aionactors.core import events as ev
from aionactors.engine.registry import Registry
from aionactors.workflow.commands import CompleteWorkflow
from aionactors.workflow.replayer import replay
from aionactors.workflow.scheduler import Scheduler, WorkflowFuture

T0 = datetime(2026, 12, 3, tzinfo=UTC)


@workflow.defn(name="clock_gate")
class ClockGate:
    @workflow.run
    async def run(self) -> str:
        start = workflow.now()
        first = workflow.execute_activity("slow")
        await workflow.wait_condition(lambda: workflow.now() >= start + timedelta(seconds=10))
        second = workflow.execute_activity("fast")
        return f"{await first}{await second}"


def _history() -> list[ev.Event]:
    """What ClockGate records when its first activity starts 20 s in: that start (no task
    woken) is the event at which the condition holds, so "fast" is scheduled right after."""
    specs: list[tuple[type[ev.EventBase], float, dict[str, object]]] = [
        (ev.WorkflowStarted, 0, {"workflow_type": "clock_gate", "run_id": "r1"}),
        (ev.ActivityScheduled, 0, {"activity_id": 0, "activity_type": "slow"}),
        (ev.ActivityStarted, 20, {"activity_id": 0}),
        (ev.ActivityScheduled, 20, {"activity_id": 1, "activity_type": "fast"}),
        (ev.ActivityCompleted, 21, {"activity_id": 0, "result": "a"}),
        (ev.ActivityStarted, 21, {"activity_id": 1}),
        (ev.ActivityCompleted, 22, {"activity_id": 1, "result": "b"}),
        (ev.WorkflowCompleted, 22, {"result": "ab"}),
    ]
    return [
        cls(seq=seq, recorded_at=T0 + timedelta(seconds=at), workflow_id="gate", **fields)  # type: ignore[arg-type]
        for seq, (cls, at, fields) in enumerate(specs, start=1)
    ]


def test_a_waiting_condition_is_checked_on_an_event_that_wakes_no_task() -> None:
    registry = Registry()
    registry.add_workflow(ClockGate)
    driver = replay(registry.workflow("clock_gate"), _history())
    assert driver.terminal == CompleteWorkflow("ab")


def test_the_scheduler_is_idle_only_with_nothing_ready_and_no_condition() -> None:
    scheduler = Scheduler()
    assert scheduler.idle

    async def body() -> None:
        await gate

    gate = WorkflowFuture(label="gate")
    scheduler.spawn(body(), "body")
    assert not scheduler.idle  # the task is ready
    scheduler.run_until_quiescent()
    assert scheduler.idle  # it waits on a future nothing resolved
    scheduler.add_condition(lambda: False, WorkflowFuture(label="condition"))
    assert not scheduler.idle
    scheduler.close()
