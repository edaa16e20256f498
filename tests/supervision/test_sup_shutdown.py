"""Orderly shutdown: reverse start order, per-child timeouts, and nothing left running."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from supervision import ChildSpec, DynamicSupervisor, EventKind, Supervisor
from supervision.testing import FaultInjector

K = EventKind


def test_children_stop_in_reverse_start_order(worker, journal, bus, recorder):
    sup = Supervisor.start([ChildSpec(n, worker, args=(n, journal)) for n in "abcd"], events=bus)
    sup.proxy().which_children().get()
    journal.clear()
    assert sup.stop() is True
    assert journal == [("stop", "d"), ("stop", "c"), ("stop", "b"), ("stop", "a")]
    assert [(e.kind, e.child_id) for e in recorder.events[-5:]] == [
        (K.TERMINATED, "d"),
        (K.TERMINATED, "c"),
        (K.TERMINATED, "b"),
        (K.TERMINATED, "a"),
        (K.SHUTDOWN, None),
    ]


def test_a_child_that_will_not_stop_in_time_is_reported_and_the_shutdown_goes_on(
    worker, journal, bus, recorder, no_thread_leak
):
    faults = FaultInjector()
    specs = [
        ChildSpec("a", worker, args=("a", journal)),
        ChildSpec("b", worker, args=("b", journal), shutdown=0.05, instrument=faults),
        ChildSpec("c", worker, args=("c", journal)),
    ]
    sup = Supervisor.start(specs, events=bus)
    gate = faults.hold_next()
    stuck = sup.proxy().child_ref("b").get()
    stuck.tell("work")  # b is now busy until the gate opens
    journal.clear()
    sup.stop()
    assert journal == [("stop", "c"), ("stop", "a")]  # a still stopped after b timed out
    assert [(e.kind, e.child_id) for e in recorder.events[-4:]] == [
        (K.TERMINATED, "c"),
        (K.STOP_TIMEOUT, "b"),
        (K.TERMINATED, "a"),
        (K.SHUTDOWN, None),
    ]
    assert stuck.is_alive()  # Python cannot kill a thread: it is reported, not hidden
    gate.set()  # once its handler returns, it handles the stop it was sent
    stuck.actor_stopped.wait(5.0)
    no_thread_leak()


def test_stopping_the_root_stops_the_whole_tree_and_every_thread(worker, bus, no_thread_leak):
    pool = DynamicSupervisor.child_spec("pool")
    inner = Supervisor.child_spec("inner", [ChildSpec("x", worker), pool])
    root = Supervisor.start([ChildSpec("w", worker), inner], events=bus)
    pool_ref = root.proxy().child_ref("inner").get().proxy().child_ref("pool").get()
    for n in range(20):
        pool_ref.proxy().start_child(ChildSpec(f"d{n}", worker))
    assert pool_ref.proxy().count_children().get().active == 20
    root.stop()
    assert not pool_ref.is_alive()
    no_thread_leak()


def test_nothing_keeps_the_process_alive_after_the_tree_is_stopped(tmp_path):
    script = textwrap.dedent(
        """
        import pykka
        from supervision import ChildSpec, Supervisor
        from supervision.testing import FaultInjector

        class Plain(pykka.ThreadingActor):   # not a daemon class: the spec makes it one
            def on_receive(self, message):
                return message

        faults = FaultInjector()
        root = Supervisor.start([
            ChildSpec("ok", Plain),
            ChildSpec("stuck", Plain, shutdown=0.05, instrument=faults),
        ])
        faults.hold_next()                      # never released
        root.proxy().child_ref("stuck").get().tell("work")
        root.stop()
        print("stopped")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
