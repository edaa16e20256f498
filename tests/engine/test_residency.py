"""Residency: thousands of parked workflows under a small cap of resident actors."""

from __future__ import annotations

import threading
import time

from aionactors.core import events as ev
from aionactors.engine import messages as msg
from aionactors.engine.clock import ManualClock
from supervision.testing import FaultInjector
from tests.engine import workflows as w
from tests.engine.conftest import ALL_ACTIVITIES, ALL_WORKFLOWS
from tests.engine.support import open_engine

PARKED = 2_000
CAP = 40


def test_thousands_of_parked_workflows_never_exceed_the_cap(tmp_path) -> None:
    clock = ManualClock()
    engine = open_engine(
        tmp_path / "parked.db",
        clock,
        workflows=ALL_WORKFLOWS,
        activities=ALL_ACTIVITIES,
        max_resident=CAP,
        idle_seconds=3600,
    )
    peak = 0
    lock = threading.Lock()
    original_bind = engine.residency.bind

    def bind_and_measure(workflow_id, ref) -> None:
        nonlocal peak
        original_bind(workflow_id, ref)
        with lock:
            peak = max(peak, engine.residency.resident_count())

    engine.residency.bind = bind_and_measure  # type: ignore[method-assign]
    try:
        for index in range(PARKED):
            engine.start_workflow(w.Parked, workflow_id=f"p-{index}")
        assert engine.residency.resident_count() <= CAP
        assert engine.residency.evictions >= PARKED - CAP
        # Every parked workflow is rehydrated by its signal and completes.
        for index in range(PARKED):
            engine.signal(f"p-{index}", "put", index)
        results = [engine.result(f"p-{index}", timeout=30) for index in range(PARKED)]
        assert results == list(range(PARKED))
        assert engine.count_workflows(status="Completed") == PARKED
        assert peak <= CAP
        for index in (0, PARKED // 2, PARKED - 1):
            types = [e.type for e in engine.history(f"p-{index}")]
            assert types == [
                "WorkflowStarted",
                "SearchAttributesUpdated",
                "SignalReceived",
                "WorkflowCompleted",
            ]
    finally:
        engine.shutdown()


def test_idle_workflows_are_evicted_and_rehydrated_on_their_next_event(tmp_path) -> None:
    clock = ManualClock()
    engine = open_engine(
        tmp_path / "idle.db",
        clock,
        workflows=ALL_WORKFLOWS,
        activities=ALL_ACTIVITIES,
        idle_seconds=0,
    )
    try:
        engine.start_workflow(w.Parked, workflow_id="idle")
        engine.evict_idle()
        assert not engine.residency.is_resident("idle")
        assert engine.describe("idle").resident is False
        engine.signal("idle", "put", "woken")
        assert engine.result("idle", timeout=20) == "woken"
    finally:
        engine.shutdown()


def test_shutdown_leaves_no_threads(tmp_path) -> None:
    before = {t.ident for t in threading.enumerate()}
    engine = open_engine(
        tmp_path / "threads.db", workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES
    )
    for index in range(20):
        engine.start_workflow(w.Parked, workflow_id=f"t-{index}")
    engine.start_workflow(w.Mixed, 1, workflow_id="mixed")
    engine.shutdown()
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []


def test_an_outcome_that_lands_behind_an_evictions_stop_reaches_the_next_actor(tmp_path) -> None:
    """A sender got the old actor's ref just before the sweep stopped it: its tell is not lost."""
    clock = ManualClock()
    engine = open_engine(
        tmp_path / "late.db", clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES
    )
    try:
        engine.start_workflow(w.Sleeper, 1, workflow_id="late")
        old = engine.residency.ref_for("late")  # the sender's first half
        faults = FaultInjector()
        faults.attach(old)
        gate = faults.hold_next(when=lambda m: isinstance(m, msg.Ping))
        old.tell(msg.Ping())  # the actor is busy while the eviction queues its stop
        evicting = threading.Thread(target=engine.residency.evict, args=("late",))
        evicting.start()
        deadline = time.monotonic() + 10
        while old.actor_inbox.empty() and time.monotonic() < deadline:
            time.sleep(0.001)  # until the stop is queued
        started = next(e for e in engine.history("late") if isinstance(e, ev.TimerStarted))
        old.tell(msg.TimerDue(started.timer_id, started.fire_at))  # the second half
        gate.set()
        evicting.join(10)
        assert not old.is_alive()
        assert engine.result("late", timeout=20).startswith("woke at")
        assert [e.type for e in engine.history("late")].count("TimerFired") == 1
    finally:
        engine.shutdown()
