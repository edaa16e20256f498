"""Recovery proportional to due work: opening a store boots only the workflows that need it.

A workflow parked on a timer or a signal is not replayed at open; its timer is
armed from its row and its next event rehydrates it. One with an activity in
flight, or with input its code has not reacted to, is in the wake index and is
booted (and its activity re-dispatched) at open.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aionactors import Engine, activity, workflow
from aionactors.engine import workflow_actor
from aionactors.engine.clock import ManualClock
from tests.engine import workflows as w
from tests.engine.conftest import ALL_ACTIVITIES, ALL_WORKFLOWS
from tests.engine.support import CommitWatch, open_engine

CALLS: list[str] = []


@activity.defn
def note(value: str) -> str:
    CALLS.append(value)
    return value


@workflow.defn(name="holds_activity")
class HoldsActivity:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(w.blocks_until_released, None)


@workflow.defn(name="signal_then_activity")
class SignalThenActivity:
    def __init__(self) -> None:
        self.value: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.value is not None)
        assert self.value is not None
        return await workflow.execute_activity(note, self.value)

    @workflow.signal
    def put(self, value: str) -> None:
        self.value = value


WORKFLOWS = [*ALL_WORKFLOWS, HoldsActivity, SignalThenActivity]
ACTIVITIES = [*ALL_ACTIVITIES, note]


def _open(path: Path, clock: ManualClock) -> Engine:
    return open_engine(path, clock, workflows=WORKFLOWS, activities=ACTIVITIES)


@pytest.fixture(autouse=True)
def _reset() -> Any:
    CALLS.clear()
    w.RELEASE.clear()
    w.RUNNING.clear()
    yield
    w.RELEASE.set()  # never leave an activity thread spinning


def test_parked_workflows_are_not_booted_at_open(tmp_path: Path) -> None:
    clock, path = ManualClock(), tmp_path / "lazy.db"
    with _open(path, clock) as first:
        first.start_workflow(w.Parked, workflow_id="on-signal")
        first.start_workflow(w.Sleeper, 1.0, workflow_id="on-timer")
        watch = CommitWatch(first)
        watch.has("on-timer", "TimerStarted")
        watch.until("on-signal", lambda _: first.store.list_wake() == [])
    with _open(path, clock) as second:
        assert second.recover() == 0
        assert not second.residency.is_resident("on-signal")
        assert not second.residency.is_resident("on-timer")
        assert second.timers.armed_count() == 0  # an hour away: beyond the horizon
        clock.advance(timedelta(minutes=55))
        assert second.timers.armed_count() == 1  # nearly due: armed from its row, no replay
        assert not second.residency.is_resident("on-timer")
        second.signal("on-signal", "put", 7)  # its next event rehydrates it
        assert second.result("on-signal", timeout=20) == 7
        clock.advance(timedelta(minutes=5))
        assert second.result("on-timer", timeout=20).startswith("woke at")


def test_an_activity_in_flight_is_booted_and_dispatched_again(tmp_path: Path) -> None:
    clock, path = ManualClock(), tmp_path / "flight.db"
    first = _open(path, clock)
    first.start_workflow(HoldsActivity, workflow_id="holder")
    assert w.RUNNING.wait(20)
    assert first.store.list_wake() == ["holder"]
    first.shutdown(drain_seconds=0)  # abandoned: recovery must run it again
    w.RUNNING.clear()
    with _open(path, clock) as second:
        assert second.store.list_wake() == ["holder"]
        w.RELEASE.set()  # only now: attempt 2 would otherwise end before the check above
        assert second.result("holder", timeout=20) == "released"
        assert second.store.list_wake() == []
        attempts = [e for e in second.history("holder") if e.type == "ActivityStarted"]
        assert [e.attempt for e in attempts] == [1, 2]


def test_input_the_code_did_not_react_to_is_found_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, path = ManualClock(), tmp_path / "input.db"
    first = _open(path, clock)
    first.start_workflow(SignalThenActivity, workflow_id="late")
    CommitWatch(first).until("late", lambda _: first.store.list_wake() == [])

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("injected fault while the code reacts")

    monkeypatch.setattr(workflow_actor, "events_for", broken)
    first.signal("late", "put", "hello")  # acknowledged: the signal alone is durable
    assert [e.type for e in first.history("late")][-1] == "SignalReceived"
    assert first.store.list_wake() == ["late"]
    first.shutdown()
    monkeypatch.undo()
    with _open(path, clock) as second:
        assert second.result("late", timeout=20) == "hello"
        assert CALLS == ["hello"]
        assert sum(e.type == "SignalReceived" for e in second.history("late")) == 1


def test_a_signal_and_the_reaction_to_it_are_one_append(tmp_path: Path) -> None:
    with _open(tmp_path / "one.db", ManualClock()) as engine:
        engine.start_workflow(SignalThenActivity, workflow_id="one")
        watch = CommitWatch(engine)
        watch.until("one", lambda _: engine.store.list_wake() == [])
        batches: list[list[str]] = []
        engine.add_commit_listener(
            lambda events: batches.append([e.type for e in events if e.workflow_id == "one"])
        )
        engine.signal("one", "put", "x")
        assert engine.result("one", timeout=20) == "x"
        ours = [batch for batch in batches if batch]
        assert ours[0] == ["SignalReceived", "ActivityScheduled", "ActivityStarted"]
        assert ours[1:] == [["ActivityCompleted", "WorkflowCompleted"]]
