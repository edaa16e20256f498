"""permanent / transient / temporary: who comes back after a crash and after a normal stop."""

from __future__ import annotations

import pytest

from supervision import (
    ChildAlreadyStarted,
    ChildNotFound,
    ChildSpec,
    DynamicSupervisor,
    EventKind,
    Restart,
    Supervisor,
)
from supervision.testing import crash

K = EventKind


def _one(worker, bus, restart):
    sup = Supervisor.start([ChildSpec("x", worker, restart=restart)], events=bus)
    return sup, sup.proxy().child_ref("x").get()


def test_permanent_child_is_restarted_after_a_normal_stop_from_outside(worker, bus, recorder):
    sup, ref = _one(worker, bus, Restart.PERMANENT)
    ref.stop()
    event = recorder.wait_for(K.EXITED, child_id="x")
    assert event.exception is None
    recorder.wait_for(K.RESTARTED, child_id="x")
    assert sup.proxy().child_ref("x").get().is_alive()
    sup.stop()


def test_transient_child_is_not_restarted_after_a_normal_stop(worker, bus, recorder):
    sup, ref = _one(worker, bus, Restart.TRANSIENT)
    ref.stop()
    recorder.wait_for(K.EXITED, child_id="x")
    # The supervisor decided in the same message that emitted EXITED: ask it now.
    (row,) = sup.proxy().which_children().get()
    assert (row.id, row.alive, row.ref, row.restarting) == ("x", False, None, False)
    assert sup.proxy().count_children().get().active == 0
    assert recorder.matching(K.RESTARTED) == []
    # A kept transient can be started again by hand.
    again = sup.proxy().restart_child("x").get()
    assert again.is_alive()
    with pytest.raises(ChildAlreadyStarted):
        sup.proxy().restart_child("x").get()
    sup.stop()


def test_transient_child_is_restarted_after_a_crash(worker, bus, recorder):
    sup, ref = _one(worker, bus, Restart.TRANSIENT)
    crash(ref)
    recorder.wait_for(K.RESTARTED, child_id="x")
    assert sup.proxy().child_ref("x").get() is not ref
    sup.stop()


@pytest.mark.parametrize("death", ["crash", "stop"])
def test_temporary_child_is_never_restarted_and_is_forgotten(worker, bus, recorder, death):
    sup, ref = _one(worker, bus, Restart.TEMPORARY)
    if death == "crash":
        crash(ref)
        recorder.wait_for(K.CRASHED, child_id="x")
    else:
        ref.stop()
        recorder.wait_for(K.EXITED, child_id="x")
    assert sup.proxy().which_children().get() == []
    assert recorder.matching(K.RESTARTED) == []
    with pytest.raises(ChildNotFound):
        sup.proxy().restart_child("x").get()
    sup.stop()


def test_dynamic_supervisor_forgets_a_transient_child_that_stopped_normally(worker, bus, recorder):
    sup = DynamicSupervisor.start(events=bus)
    proxy = sup.proxy()
    ref = proxy.start_child(ChildSpec("x", worker, restart=Restart.TRANSIENT)).get()
    crash(ref)
    recorder.wait_for(K.RESTARTED, child_id="x")
    proxy.child_ref("x").get().stop()
    recorder.wait_for(K.EXITED, child_id="x")
    assert proxy.which_children().get() == []
    assert proxy.child_ref("x").get() is None
    sup.stop()
