"""The fault-injection toolkit: crash, fail, delay, hold, drop messages; wait without sleeping."""

from __future__ import annotations

import threading

import pykka
import pytest

from supervision import ChildSpec, EventKind, Strategy, Supervisor
from supervision.testing import EventRecorder, FaultInjector, InjectedFault, crash

K = EventKind


class Plain(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.failed = threading.Event()
        self.stopped = False

    def on_failure(self, exc_type, exc, tb) -> None:
        self.failed.exc = exc
        self.failed.set()

    def on_stop(self) -> None:
        self.stopped = True


def test_crash_kills_any_pykka_actor_as_a_failing_tell_would():
    ref = Plain.start()  # not supervised at all
    actor = ref._actor_weakref()
    boom = ValueError("boom")
    crash(ref, boom)
    assert actor.failed.wait(5.0)  # on_failure ran, with our exception ...
    assert actor.failed.exc is boom
    assert not actor.stopped  # ... and on_stop did not
    assert not ref.is_alive()
    with pytest.raises(pykka.ActorDeadError):
        crash(ref)
    with pytest.raises(pykka.ActorDeadError):
        crash(ref)


def test_raise_next_crashes_on_tells_and_fails_asks_without_a_crash(worker, bus, recorder):
    faults = FaultInjector()
    sup = Supervisor.start([ChildSpec("x", worker, instrument=faults)], events=bus, max_restarts=9)
    faults.raise_next(2)
    sup.proxy().child_ref("x").get().tell("inc")
    recorder.wait_for(K.RESTARTED)
    sup.proxy().child_ref("x").get().tell("inc")  # the rule follows the child's incarnations
    recorder.wait_for(K.RESTARTED, count=2)
    assert sup.proxy().child_ref("x").get().ask("inc") == 1  # rules used up
    boom = RuntimeError("for the caller")
    faults.raise_next(1, boom)
    ref = sup.proxy().child_ref("x").get()
    with pytest.raises(RuntimeError, match="for the caller"):
        ref.ask("inc")
    assert ref.ask("count") == 1  # the ask failure did not kill it
    assert len(recorder.matching(K.CRASHED)) == 2
    sup.stop()


def test_when_restricts_a_rule_to_matching_messages(worker):
    ref = worker.start()
    faults = FaultInjector()
    faults.attach(ref)
    faults.raise_next(1, when=lambda m: m == "write")
    assert ref.ask("read") == 1
    with pytest.raises(InjectedFault):
        ref.ask("write")
    assert ref.ask("write") == 2
    ref.stop()


def test_drop_next_loses_messages(worker):
    ref = worker.start()
    faults = FaultInjector()
    faults.attach(ref)
    faults.drop_next(2)
    ref.tell("inc")  # dropped
    with pytest.raises(pykka.Timeout):
        ref.ask("inc", timeout=0.05)  # dropped: no reply ever comes
    assert ref.ask("count") == 0
    ref.stop()


def test_hold_next_blocks_until_released_and_delay_next_slows_down(worker, monkeypatch):
    ref = worker.start()
    faults = FaultInjector()
    faults.attach(ref)
    gate = faults.hold_next()
    future = ref.ask("inc", block=False)
    with pytest.raises(pykka.Timeout):
        future.get(timeout=0.02)
    gate.set()
    assert future.get(timeout=5.0) == 1
    slept: list[float] = []  # the delay is a real sleep in the handler: record, don't wait
    monkeypatch.setattr("supervision._faults.time.sleep", slept.append)
    faults.delay_next(1, 0.05)
    assert ref.ask("inc") == 2
    assert 0.05 in slept  # (time.sleep is patched process-wide: other threads may add theirs)
    ref.stop()


def test_wait_for_explains_what_it_saw_when_it_times_out(worker, bus, recorder):
    sup = Supervisor.start([ChildSpec("x", worker)], events=bus)
    with pytest.raises(TimeoutError, match="saw 0 of 1 crashed"):
        recorder.wait_for(K.CRASHED, timeout=0.01)
    sup.stop()


def test_wait_settled_waits_for_a_whole_tree_to_recover(worker, bus, recorder):
    sub = Supervisor.child_spec("sub", [ChildSpec(n, worker) for n in "xyz"])
    root = Supervisor.start([sub], strategy=Strategy.ONE_FOR_ALL, events=bus)
    sub_ref = root.proxy().child_ref("sub").get()
    refs = [c.ref for c in sub_ref.proxy().which_children().get()]
    for ref in refs:
        crash(ref)
    recorder.wait_for(K.CRASHED, count=3)
    recorder.wait_settled(root)
    rows = sub_ref.proxy().which_children().get()
    assert all(r.alive and r.ref not in refs for r in rows)
    root.stop()


def test_recorder_marks_and_filters(worker):
    recorder = EventRecorder()
    from supervision import EventBus

    sup = Supervisor.start([ChildSpec("x", worker)], events=EventBus(recorder), name="s")
    sup.proxy().which_children().get()
    mark = recorder.mark()
    crash(sup.proxy().child_ref("x").get())
    recorder.wait_for(K.RESTARTED, since=mark)
    assert [e.kind for e in recorder.matching(since=mark)] == [K.CRASHED, K.RESTARTED]
    assert recorder.matching(supervisor="other") == []
    assert len(recorder.matching(where=lambda e: e.ref is not None)) == 2
    sup.stop()
