"""Every way a pykka actor dies reaches its supervisor; an exception sent back to ask() does not."""

from __future__ import annotations

import threading

import pykka
import pytest

from supervision import (
    ChildSpec,
    EventKind,
    ExitUnobserved,
    Restart,
    SupervisedActor,
    Supervisor,
)
from supervision.testing import FaultInjector, InjectedFault, crash

K = EventKind


class FailsFirstStart(pykka.ThreadingActor):
    """A plain pykka actor (no mixin) whose first on_start raises."""

    starts = 0

    def on_start(self) -> None:
        type(self).starts += 1
        if type(self).starts == 1:
            raise ValueError("no database")

    def on_receive(self, message):
        return "ok"


class SupervisedFailsFirstStart(SupervisedActor):
    starts = 0

    def on_start(self) -> None:
        type(self).starts += 1
        if type(self).starts == 1:
            raise ValueError("no database")

    def on_receive(self, message):
        return "ok"


class FailsInInit(pykka.ThreadingActor):
    inits = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).inits += 1
        if type(self).inits == 1:
            raise ValueError("bad config")

    def on_receive(self, message):
        return "ok"


class FailsInOnStop(pykka.ThreadingActor):
    def on_stop(self) -> None:
        raise RuntimeError("cleanup failed")


def _sup(bus, *specs, **options):
    options.setdefault("max_restarts", 10)
    return Supervisor.start(list(specs), events=bus, **options)


def test_exception_in_a_tell_is_a_crash_and_on_failure_runs(worker, journal, bus, recorder):
    sup = _sup(bus, ChildSpec("x", worker, args=("x", journal)))
    ref = sup.proxy().child_ref("x").get()
    ref.tell("boom")
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert type(event.exception).__name__ == "Boom"
    assert ("failure", "x") in journal
    recorder.wait_for(K.RESTARTED, child_id="x")
    assert sup.proxy().child_ref("x").get().ask("count") == 0
    sup.stop()


def test_exception_in_on_start_of_any_pykka_actor_is_a_crash_with_its_exception(bus, recorder):
    FailsFirstStart.starts = 0
    sup = _sup(bus, ChildSpec("x", FailsFirstStart))
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert isinstance(event.exception, ValueError)
    recorder.wait_for(K.RESTARTED, child_id="x")
    assert sup.proxy().child_ref("x").get().ask("hi") == "ok"
    sup.stop()


def test_on_start_failure_injected_by_a_fault_injector(worker, bus, recorder):
    faults = FaultInjector()
    faults.fail_start(2)
    sup = _sup(bus, ChildSpec("x", worker, instrument=faults))
    recorder.wait_for(K.RESTARTED, child_id="x", count=2)
    crashes = recorder.matching(K.CRASHED, child_id="x")
    assert [type(e.exception) for e in crashes] == [InjectedFault, InjectedFault]
    assert sup.proxy().child_ref("x").get().ask("count") == 0
    sup.stop()


def test_exception_in_the_constructor_counts_as_a_crash_and_is_retried(bus, recorder):
    FailsInInit.inits = 0
    sup = _sup(bus, ChildSpec("x", FailsInInit))
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert isinstance(event.exception, ValueError)
    recorder.wait_for(K.RESTARTED, child_id="x")
    assert sup.proxy().child_ref("x").get().ask("hi") == "ok"
    sup.stop()


def test_factory_started_supervised_actor_keeps_its_on_start_exception(bus, recorder):
    SupervisedFailsFirstStart.starts = 0
    sup = _sup(bus, ChildSpec("x", SupervisedFailsFirstStart.start))
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert isinstance(event.exception, ValueError)
    recorder.wait_for(K.RESTARTED, child_id="x")
    sup.stop()


def test_factory_started_plain_actor_dying_in_on_start_is_still_detected(bus, recorder):
    FailsFirstStart.starts = 0
    sup = _sup(bus, ChildSpec("x", FailsFirstStart.start))
    event = recorder.wait_for(K.CRASHED, child_id="x")
    # Hooked after it started: the exception is the real one or, if it died
    # before the hooks went in, ExitUnobserved. Either way it is a crash.
    assert isinstance(event.exception, (ValueError, ExitUnobserved))
    recorder.wait_for(K.RESTARTED, child_id="x")
    sup.stop()


def test_a_factory_that_returns_no_actor_ref_is_a_failed_start(bus, recorder):
    sup = _sup(bus, ChildSpec("x", lambda: "not a ref"), max_restarts=0)
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert isinstance(event.exception, TypeError)
    recorder.wait_for(K.ROOT_FAILED)
    sup.stop()


def test_helper_actors_started_by_a_factory_are_not_mistaken_for_the_child(bus, recorder):
    helpers = []

    def factory():
        helpers.append(SupervisedActor.start())
        return FailsFirstStart.start()

    FailsFirstStart.starts = 1  # never fails
    sup = _sup(bus, ChildSpec("x", factory))
    child = sup.proxy().child_ref("x").get()
    helpers[0].stop()
    for thread in threading.enumerate():  # the helper's exit notice is sent before it ends
        if thread.name.startswith("SupervisedActor-"):
            thread.join(5.0)
    assert child.is_alive()
    assert sup.proxy().count_children().get().active == 1
    assert recorder.matching(K.EXITED) == []
    sup.stop()


def test_stop_from_outside_is_a_normal_exit(worker, bus, recorder):
    sup = _sup(bus, ChildSpec("x", worker, restart=Restart.TRANSIENT))
    sup.proxy().child_ref("x").get().stop()
    event = recorder.wait_for(K.EXITED, child_id="x")
    assert event.exception is None
    assert recorder.matching(K.CRASHED) == []
    sup.stop()


def test_exception_in_on_stop_during_an_outside_stop_is_a_crash(bus, recorder):
    sup = _sup(bus, ChildSpec("x", FailsInOnStop, restart=Restart.TRANSIENT))
    sup.proxy().child_ref("x").get().stop()
    event = recorder.wait_for(K.CRASHED, child_id="x")
    assert isinstance(event.exception, RuntimeError)
    recorder.wait_for(K.RESTARTED, child_id="x")
    sup.stop()


def test_exception_raised_back_to_an_ask_caller_is_not_a_crash(worker, bus, recorder):
    sup = _sup(bus, ChildSpec("x", worker))
    ref = sup.proxy().child_ref("x").get()
    with pytest.raises(Exception, match="boom"):
        ref.ask("boom")
    assert ref.ask("inc") == 1  # same actor, same state: it lives on
    assert ref.is_alive()
    assert sup.proxy().child_ref("x").get() is ref
    assert recorder.matching(K.CRASHED) == []
    sup.stop()


def test_children_and_supervisors_run_on_daemon_threads(worker, bus):
    before = set(threading.enumerate())
    sup = _sup(bus, ChildSpec("x", worker), ChildSpec("y", SupervisedFailsFirstStart.start))
    sup.proxy().which_children().get()
    new = [t for t in threading.enumerate() if t not in before]
    assert len(new) == 3
    assert all(t.daemon for t in new)
    sup.stop()


def test_a_crashed_supervisor_takes_its_children_down_and_is_restarted_with_fresh_ones(
    worker, bus, recorder
):
    sub = Supervisor.child_spec("sub", [ChildSpec("a", worker), ChildSpec("b", worker)])
    root = Supervisor.start([sub], events=bus, name="root")
    sub_ref = root.proxy().child_ref("sub").get()
    old = [c.ref for c in sub_ref.proxy().which_children().get()]
    crash(sub_ref)  # a bug in the supervisor itself
    recorder.wait_for(K.CRASHED, supervisor="root", child_id="sub")
    assert not any(ref.is_alive() for ref in old)  # no orphans: stopped before it died
    recorder.wait_for(K.RESTARTED, supervisor="root", child_id="sub")
    recorder.wait_settled(root)
    new = root.proxy().child_ref("sub").get().proxy().which_children().get()
    assert [c.id for c in new] == ["a", "b"]
    assert all(c.alive and c.ref not in old for c in new)
    root.stop()
