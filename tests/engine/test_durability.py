"""Crash equals control: a workflow crashed at any recorded step ends exactly like one that was not.

Two kinds of crash: the workflow actor is killed (supervision restarts it and it
replays), and the whole engine dies at an append (a fresh engine over the same
SQLite file recovers it). Each is compared with an uncrashed control run.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pykka
import pytest

from aionactors import Engine, workflow
from aionactors.core.errors import StoreError
from aionactors.engine.clock import ManualClock
from supervision.testing import crash
from tests.engine import workflows as w
from tests.engine.conftest import ALL_ACTIVITIES, ALL_WORKFLOWS
from tests.engine.support import Aborted, CommitWatch, CrashingStore, open_engine, shape

WORKFLOW_ID = "subject"


def drive(engine: Engine, clock: ManualClock, watch: CommitWatch) -> None:
    """Push a Mixed workflow through its timer and signal, whatever state it was left in."""
    history = watch.has(WORKFLOW_ID, "TimerStarted")
    if not any(e.type == "TimerFired" for e in history):
        clock.advance(timedelta(minutes=5))
        history = watch.has(WORKFLOW_ID, "TimerFired")
    if not any(e.type == "SignalReceived" for e in history):
        engine.signal(WORKFLOW_ID, "proceed", "go")


def control_run(tmp_path: Path) -> tuple[list, object, int]:
    clock = ManualClock()
    engine = open_engine(
        tmp_path / "control.db", clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES
    )
    try:
        engine.start_workflow(w.Mixed, 4, workflow_id=WORKFLOW_ID)
        drive(engine, clock, CommitWatch(engine))
        result = engine.result(WORKFLOW_ID, timeout=20)
        history = engine.history(WORKFLOW_ID)
        appends = engine.writer.appends
    finally:
        engine.shutdown()
    return history, result, appends


def assert_side_effects_once_per_recorded_attempt(history) -> None:
    """Every attempt whose outcome is recorded ran exactly once; none ran twice; none ran
    without being recorded. (An attempt the crash cut short may have run or not.)"""
    started: dict[tuple[int, int], bool] = {}
    for event in history:
        if event.type == "ActivityStarted":
            started[(event.activity_id, event.attempt)] = False
        elif event.type in ("ActivityCompleted", "ActivityFailed"):
            started[(event.activity_id, event.attempt)] = True
    keys = {n: key for n, key in enumerate(sorted(k for k in w.EXECUTIONS))}
    assert all(count == 1 for count in w.EXECUTIONS.values()), w.EXECUTIONS
    assert len(w.EXECUTIONS) <= len(started), (w.EXECUTIONS, started)
    settled = sum(1 for has_outcome in started.values() if has_outcome)
    assert settled <= len(w.EXECUTIONS), (w.EXECUTIONS, started, keys)


COMMANDS = {"ActivityScheduled", "TimerStarted", "TimerCancelled", "WorkflowCompleted"}


def same_shape(history, control) -> bool:
    """Same commands in the same order, and the same events overall.

    Concurrent activities may complete in either order, and a crash may add a
    dispatch attempt: extra ActivityStarted entries of one activity are folded.
    """

    def folded(events) -> list:
        keys, seen = [], set()
        for key in shape(events):
            if key[0] == "ActivityStarted":
                if key in seen:
                    continue
                seen.add(key)
            keys.append(key)
        return keys

    def commands(events) -> list:
        return [key for key in shape(events) if key[0] in COMMANDS]

    return sorted(folded(history)) == sorted(folded(control)) and commands(history) == commands(
        control
    )


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    w.EXECUTIONS.clear()
    return control_run(tmp_path_factory.mktemp("control"))


def test_control_run_is_what_we_compare_against(control) -> None:
    history, result, appends = control
    assert result["pair"] == [16, 9]
    assert history[-1].type == "WorkflowCompleted"
    # One append per step: the start with the first commands, the signal with the code's
    # reaction, each outcome with the commands it leads to.
    assert appends == 6


@pytest.mark.parametrize("crash_at", range(3, 18))  # from the first append (start + first step) on
def test_actor_crash_at_every_step_replays_to_the_same_end(tmp_path, control, crash_at) -> None:
    """Kill the workflow actor (as a crash would) as soon as its event n has committed."""
    control_history, control_result, _ = control
    clock = ManualClock()
    engine = open_engine(
        tmp_path / "a.db", clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES
    )
    crashed = threading.Event()
    ended_first = threading.Event()
    """The run ended (and its actor retired) before the crash thread got to it: no crash due."""

    def crash_when_reached(events) -> None:
        for event in events:
            if event.workflow_id == WORKFLOW_ID and event.seq == crash_at:
                threading.Thread(target=crash_actor).start()

    def crash_actor() -> None:
        try:
            ref = engine.supervisor.proxy().child_ref(WORKFLOW_ID).get()
        except pykka.ActorDeadError:
            return  # the run already ended and the engine shut down
        if ref is None:
            summary = engine.summary(WORKFLOW_ID)
            if summary is not None and summary.status.is_terminal:
                ended_first.set()
            return
        try:
            crash(ref)
        except pykka.ActorDeadError:
            ended_first.set()  # it ended (and stopped) between the lookup and the crash
            return
        crashed.set()

    engine.writer.add_listener(crash_when_reached)
    try:
        engine.start_workflow(w.Mixed, 4, workflow_id=WORKFLOW_ID)
        drive(engine, clock, CommitWatch(engine))
        result = engine.result(WORKFLOW_ID, timeout=20)
        history = engine.history(WORKFLOW_ID)
    finally:
        engine.shutdown()
    assert result == control_result
    assert same_shape(history, control_history)
    assert_side_effects_once_per_recorded_attempt(history)
    assert crashed.is_set() or ended_first.is_set() or crash_at > len(history) - 1


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-commit", "after-commit"])
def test_engine_death_at_every_append_recovers_to_the_same_end(
    tmp_path, control, after_commit
) -> None:
    """The store dies at append n (the process is gone); a new engine takes over the file."""
    control_history, control_result, control_appends = control
    for crash_at in range(1, control_appends + 1):
        w.EXECUTIONS.clear()
        path = tmp_path / f"engine-{crash_at}.db"
        clock = ManualClock()
        dying = CrashingStore(path, crash_at, after_commit=after_commit)
        first = open_engine(
            path, clock, store=dying, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES
        )
        watch = CommitWatch(first, abort=dying.dead)
        dying.on_death = watch.poke
        try:
            first.start_workflow(w.Mixed, 4, workflow_id=WORKFLOW_ID)
            drive(first, clock, watch)
            watch.until(WORKFLOW_ID, lambda h: h[-1].type == "WorkflowCompleted")
        except (Aborted, OSError, StoreError):
            pass  # the engine died there, as planned
        finally:
            first.shutdown()
        assert dying.dead.is_set() or crash_at > dying.appends
        second = open_engine(path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES)
        try:
            if second.store.head_seq(WORKFLOW_ID) == 0:
                second.start_workflow(w.Mixed, 4, workflow_id=WORKFLOW_ID)
            drive(second, clock, CommitWatch(second))
            result = second.result(WORKFLOW_ID, timeout=20)
            history = second.history(WORKFLOW_ID)
        finally:
            second.shutdown()
        assert result == control_result, crash_at
        assert same_shape(history, control_history), crash_at
        assert_side_effects_once_per_recorded_attempt(history)


@workflow.defn(name="mixed")
class MixedChanged:
    """Version 2 of 'mixed': calls another activity first, so v1 histories do not replay."""

    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(w.add_async, {"a": n, "b": n})


def test_changed_code_replayed_over_old_history_fails_once_as_non_determinism(tmp_path) -> None:
    clock = ManualClock()
    path = tmp_path / "nd.db"
    with open_engine(path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES) as first:
        first.start_workflow(w.Mixed, 1, workflow_id="nd")
        CommitWatch(first).has("nd", "TimerStarted")
    with open_engine(path, clock, workflows=[MixedChanged], activities=ALL_ACTIVITIES) as second:
        from aionactors import WorkflowFailedError

        # Parked on its timer, it is not replayed at open but when that timer fires.
        assert not second.residency.is_resident("nd")
        clock.advance(timedelta(minutes=5))
        with pytest.raises(WorkflowFailedError, match=r"^workflow 'nd' failed: non-determinism"):
            second.result("nd", timeout=20)
        failures = [e for e in second.history("nd") if e.type == "WorkflowFailed"]
        assert len(failures) == 1
        assert failures[0].error.message.startswith("non-determinism violation")


def test_timer_due_while_the_engine_was_down_fires_on_restart(tmp_path) -> None:
    clock = ManualClock()
    path = tmp_path / "timers.db"
    with open_engine(path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES) as first:
        first.start_workflow(w.Sleeper, 24 * 30, workflow_id="month")
        CommitWatch(first).has("month", "TimerStarted")
    clock.advance(timedelta(days=31))  # nobody is running: the clock just moves
    with open_engine(path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES) as second:
        assert second.result("month", timeout=20).startswith("woke at")
        fired = [e for e in second.history("month") if e.type == "TimerFired"]
        assert len(fired) == 1


def test_now_replays_the_time_each_step_saw(tmp_path) -> None:
    """workflow.now() on replay is positional, not the last time of the run."""
    seen: list = []

    @workflow.defn(name="clockwatch")
    class ClockWatch:
        @workflow.run
        async def run(self) -> list:
            stamps = [workflow.now().isoformat()]
            await workflow.sleep(60)
            stamps.append(workflow.now().isoformat())
            await workflow.sleep(60)
            stamps.append(workflow.now().isoformat())
            seen.append(list(stamps))
            return stamps

    clock = ManualClock()
    path = tmp_path / "now.db"
    with open_engine(path, clock, workflows=[ClockWatch]) as engine:
        watch = CommitWatch(engine)
        engine.start_workflow(ClockWatch, workflow_id="c")
        watch.has("c", "TimerStarted")
        clock.advance(60)
        watch.has("c", "TimerStarted", 2)
        live_partial = engine.history("c")
    with open_engine(path, clock, workflows=[ClockWatch]) as engine:
        watch = CommitWatch(engine)
        clock.advance(60)
        stamps = engine.result("c", timeout=20)
    assert stamps[0] == live_partial[0].recorded_at.isoformat()
    assert (
        stamps[1] == next(e for e in live_partial if e.type == "TimerFired").recorded_at.isoformat()
    )
    assert stamps[0] < stamps[1] < stamps[2]


def test_signal_arriving_while_an_activity_runs_replays_in_history_order(tmp_path) -> None:
    """Regression: a signal recorded before an activity's completion must also be applied
    before it, live as on replay (it was once applied later, live only)."""
    clock = ManualClock()
    path = tmp_path / "order.db"
    with open_engine(path, clock, workflows=[GatedApproval], activities=ALL_ACTIVITIES) as first:
        watch = CommitWatch(first)
        first.start_workflow(GatedApproval, workflow_id="gated")
        assert w.RUNNING.wait(20)
        first.signal("gated", "approve")
        w.RELEASE.set()
        watch.has("gated", "TimerStarted")
    with open_engine(path, clock, workflows=[GatedApproval], activities=ALL_ACTIVITIES) as second:
        clock.advance(10)
        assert second.result("gated", timeout=20) == "approved before the activity finished"


@workflow.defn(name="gated_approval")
class GatedApproval:
    def __init__(self) -> None:
        self.approved = False

    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(w.blocks_until_released)
        already = self.approved
        await workflow.wait_condition(lambda: self.approved, timeout=60)
        await workflow.sleep(5)
        return "approved before the activity finished" if already else "approved later"

    @workflow.signal
    def approve(self) -> None:
        self.approved = True


def test_thousands_of_parked_workflows_recover_without_exhausting_the_store(tmp_path) -> None:
    """Recovery replays workflows in paced batches: none crash-loops on a busy store."""
    clock, path, count = ManualClock(), tmp_path / "many.db", 1500
    with open_engine(path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES) as first:
        for index in range(count):
            first.start_workflow(w.Sleeper, 1.0, workflow_id=f"s-{index}")
        CommitWatch(first).until(
            f"s-{count - 1}", lambda h: any(e.type == "TimerStarted" for e in h)
        )
    with open_engine(
        path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES, timer_horizon=7200
    ) as second:
        assert second.timers.armed_count() == count  # re-armed from the rows, none rewritten
        clock.advance(timedelta(hours=1))
        outcomes = {second.result(f"s-{index}", timeout=60)[:7] for index in range(count)}
        assert outcomes == {"woke at"}
        assert second.count_workflows(status="Completed") == count
