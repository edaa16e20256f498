"""Restart intensity: too many restarts escalate to the parent, whose strategy applies; the root
reports to its callback."""

from __future__ import annotations

import logging

from supervision import (
    ChildSpec,
    DynamicSupervisor,
    EventKind,
    RestartIntensityExceeded,
    Strategy,
    Supervisor,
)
from supervision.testing import ManualClock, crash, crash_child

K = EventKind


def test_too_many_restarts_stop_the_children_in_reverse_and_reach_the_root_callback(
    worker, journal, bus, recorder
):
    failures = []
    specs = [ChildSpec(n, worker, args=(n, journal)) for n in "abc"]
    sup = Supervisor.start(
        specs, events=bus, max_restarts=1, period=60.0, on_root_failure=failures.append
    )
    crash_child(sup, "b")
    recorder.wait_for(K.RESTARTED, child_id="b")
    journal.clear()
    boom = RuntimeError("second crash")
    crash_child(sup, "b", boom)
    recorder.wait_for(K.ROOT_FAILED)  # emitted once on_root_failure has returned
    (error,) = failures
    assert isinstance(error, RestartIntensityExceeded)
    assert error.__cause__ is boom
    assert error.code == "restart_intensity_exceeded"
    assert [e for e in journal if e[0] == "stop"] == [("stop", "c"), ("stop", "a")]
    kinds = [e.kind for e in recorder.events[-6:]]
    assert kinds == [K.CRASHED, K.ESCALATED, K.TERMINATED, K.TERMINATED, K.SHUTDOWN, K.ROOT_FAILED]
    sup.actor_stopped.wait(5.0)
    assert not sup.is_alive()


def test_max_restarts_zero_gives_up_at_the_first_crash(worker, bus, recorder):
    Supervisor.start([ChildSpec("a", worker)], events=bus, max_restarts=0)
    crash(recorder.wait_for(K.STARTED).ref)
    recorder.wait_for(K.ESCALATED)
    assert recorder.matching(K.RESTARTED) == []


def test_restarts_older_than_the_period_do_not_count(worker, bus, recorder):
    clock = ManualClock()
    sup = Supervisor.start(
        [ChildSpec("a", worker)], events=bus, clock=clock, max_restarts=1, period=10.0
    )
    for _ in range(3):
        mark = recorder.mark()
        crash_child(sup, "a")
        recorder.wait_for(K.RESTARTED, since=mark)
        clock.advance(10.5)
    assert recorder.matching(K.ESCALATED) == []
    crash_child(sup, "a")
    recorder.wait_for(K.RESTARTED, count=4)
    crash_child(sup, "a")  # two within 10 s
    recorder.wait_for(K.ESCALATED)


def test_escalation_reaches_the_parent_whose_own_strategy_applies(worker, bus, recorder):
    sub = Supervisor.child_spec("sub", [ChildSpec("w", worker)], max_restarts=1, period=60.0)
    root = Supervisor.start(
        [sub, ChildSpec("sibling", worker)],
        strategy=Strategy.ONE_FOR_ALL,
        events=bus,
        max_restarts=5,
        name="root",
    )
    sub_ref = root.proxy().child_ref("sub").get()
    sibling = root.proxy().child_ref("sibling").get()
    crash_child(sub_ref, "w")
    recorder.wait_for(K.RESTARTED, supervisor="root/sub", child_id="w")
    crash_child(sub_ref, "w")
    escalated = recorder.wait_for(K.ESCALATED, supervisor="root/sub")
    crashed = recorder.wait_for(K.CRASHED, supervisor="root", child_id="sub")
    assert crashed.exception is escalated.exception
    recorder.wait_for(K.RESTARTED, supervisor="root", child_id="sibling")
    # one_for_all at the root: the sibling was stopped and restarted with the subtree.
    assert [(e.kind, e.child_id) for e in recorder.matching(supervisor="root")][-4:] == [
        (K.CRASHED, "sub"),
        (K.TERMINATED, "sibling"),
        (K.RESTARTED, "sub"),
        (K.RESTARTED, "sibling"),
    ]
    assert not sibling.is_alive()
    new_sub = root.proxy().child_ref("sub").get()
    assert new_sub is not sub_ref
    (w,) = new_sub.proxy().which_children().get()
    assert w.alive
    assert w.ref.ask("count") == 0
    recorder.wait_settled(root)
    root.stop()


def test_escalation_through_two_levels_reaches_the_root_callback(worker, bus, recorder):
    failures = []
    leaf = Supervisor.child_spec("leaf", [ChildSpec("w", worker)], max_restarts=0)
    mid = Supervisor.child_spec("mid", [leaf], max_restarts=0)
    root = Supervisor.start(
        [mid], events=bus, max_restarts=0, name="top", on_root_failure=failures.append
    )
    leaf_ref = root.proxy().child_ref("mid").get().proxy().child_ref("leaf").get()
    crash_child(leaf_ref, "w")
    recorder.wait_for(K.ROOT_FAILED, supervisor="top")
    assert [e.supervisor for e in recorder.matching(K.ESCALATED)] == [
        "top/mid/leaf",
        "top/mid",
        "top",
    ]
    assert isinstance(failures[0], RestartIntensityExceeded)
    assert failures[0].supervisor == "top"


def test_a_root_that_fails_without_a_callback_logs_critically(worker, bus, recorder, caplog):
    caplog.set_level(logging.CRITICAL, logger="supervision")
    Supervisor.start([ChildSpec("a", worker)], events=bus, max_restarts=0)
    crash(recorder.wait_for(K.STARTED).ref)
    recorder.wait_for(K.ROOT_FAILED)
    assert any("nobody was told" in r.getMessage() for r in caplog.records)


def test_a_dynamic_supervisor_escalates_like_any_other(worker, bus, recorder):
    dyn = DynamicSupervisor.child_spec("pool", max_restarts=0)
    root = Supervisor.start([dyn], events=bus, name="root")
    pool = root.proxy().child_ref("pool").get()
    pool.proxy().start_child(ChildSpec("w1", worker)).get()
    crash_child(pool, "w1")
    recorder.wait_for(K.ESCALATED, supervisor="root/pool")
    recorder.wait_for(K.RESTARTED, supervisor="root", child_id="pool")
    # Dynamic children are not part of the spec: the restarted pool starts empty.
    assert root.proxy().child_ref("pool").get().proxy().which_children().get() == []
    root.stop()
