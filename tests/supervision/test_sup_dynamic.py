"""The dynamic supervisor: children by id at run time, and a crash storm across ~1,000 of them."""

from __future__ import annotations

import random
import threading
from typing import Any

import pykka
import pytest

from supervision import (
    ChildAlreadyStarted,
    ChildNotFound,
    ChildSpec,
    DynamicSupervisor,
    EventKind,
    Restart,
    Supervisor,
    TooManyChildren,
)
from supervision.testing import FaultInjector, crash

K = EventKind


class StormWorker(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        if message == "count":
            return self.count
        self.count += 1
        return self.count


class Explodes(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        raise ValueError("bad arguments")


def test_start_terminate_and_look_up_children_by_id(worker, bus, recorder):
    sup = DynamicSupervisor.start(events=bus, max_children=3)
    proxy = sup.proxy()
    refs = {i: proxy.start_child(ChildSpec(i, worker)).get() for i in ("a", "b", "c")}
    assert proxy.child_ref("b").get() is refs["b"]
    with pytest.raises(ChildAlreadyStarted):
        proxy.start_child(ChildSpec("a", worker)).get()
    with pytest.raises(TooManyChildren):
        proxy.start_child(ChildSpec("d", worker)).get()
    proxy.terminate_child("b").get()
    assert not refs["b"].is_alive()
    assert recorder.wait_for(K.TERMINATED).child_id == "b"
    assert proxy.child_ref("b").get() is None
    with pytest.raises(ChildNotFound):
        proxy.terminate_child("b").get()
    assert [c.id for c in proxy.which_children().get()] == ["a", "c"]
    counts = proxy.count_children().get()
    assert (counts.specs, counts.active, counts.workers, counts.supervisors) == (2, 2, 2, 0)
    assert recorder.matching(K.RESTARTED) == []  # terminate_child never restarts
    sup.stop()


def test_a_child_that_cannot_be_built_is_an_error_for_the_caller_only(worker, bus, recorder):
    sup = DynamicSupervisor.start(events=bus)
    proxy = sup.proxy()
    with pytest.raises(ValueError, match="bad arguments"):
        proxy.start_child(ChildSpec("x", Explodes)).get()
    assert proxy.which_children().get() == []
    assert proxy.start_child(ChildSpec("x", worker)).get().is_alive()
    assert recorder.matching(K.CRASHED) == []
    sup.stop()


def _crash_wave(refs: list[pykka.ActorRef[Any]], threads: int = 4) -> None:
    """Crash every ref, from several threads at once."""
    chunks = [refs[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda c=c: [crash(r) for r in c]) for c in chunks]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def test_a_crash_storm_leaves_the_tree_consistent_and_leaks_no_thread(
    bus, recorder, no_thread_leak
):
    rng = random.Random(42)
    pools = [DynamicSupervisor.child_spec(f"pool{i}", max_restarts=10_000) for i in range(2)]
    root = Supervisor.start(pools, events=bus, name="root")
    proxies = [root.proxy().child_ref(f"pool{i}").get().proxy() for i in range(2)]
    ids = {0: [f"wf-0-{n}" for n in range(500)], 1: [f"wf-1-{n}" for n in range(500)]}
    for pool, proxy in enumerate(proxies):
        for child_id in ids[pool]:
            restart = Restart.PERMANENT if rng.random() < 0.8 else Restart.TRANSIENT
            proxy.start_child(ChildSpec(child_id, StormWorker, restart=restart))
    for proxy in proxies:  # drain the non-blocking start_child calls
        assert proxy.count_children().get().active == 500

    crashes = 0
    for wave in range(3):  # some children crash more than once
        targets = []
        for pool, proxy in enumerate(proxies):
            for child_id in rng.sample(ids[pool], 100):
                targets.append(proxy.child_ref(child_id).get())
        mark = recorder.mark()
        _crash_wave(targets)
        crashes += len(targets)
        recorder.wait_for(K.RESTARTED, count=len(targets), since=mark, timeout=20.0)
        assert wave < 3
    recorder.wait_settled(root, timeout=20.0)

    assert len(recorder.matching(K.CRASHED)) == crashes == 600
    assert recorder.matching(K.ESCALATED) == []
    tree_refs = []
    for proxy in proxies:
        rows = proxy.which_children().get()
        assert len(rows) == 500
        assert len({r.id for r in rows}) == 500  # no duplicate ids
        assert all(r.alive for r in rows)  # every child (permanent and transient) is back
        tree_refs += [r.ref for r in rows]
    # No duplicate actors either: exactly one live actor per child, and it is the tree's.
    registered = pykka.ActorRegistry.get_by_class(StormWorker)
    assert {r.actor_urn for r in registered} == {r.actor_urn for r in tree_refs}
    assert len(registered) == 1000
    assert all(r.ask("count") == 0 for r in tree_refs[:50])  # usable right away

    root.stop()
    assert pykka.ActorRegistry.get_by_class(StormWorker) == []
    no_thread_leak()


def test_stopping_a_dynamic_supervisor_stops_children_concurrently_within_timeouts(bus, recorder):
    sup = DynamicSupervisor.start(events=bus)
    proxy = sup.proxy()
    for n in range(200):
        proxy.start_child(ChildSpec(f"c{n}", StormWorker, shutdown=2.0))
    gates = []
    for n in (17, 99):
        ref = proxy.start_child(ChildSpec(f"stuck{n}", StormWorker, shutdown=0.05)).get()
        stuck = FaultInjector()
        stuck.attach(ref)
        gates.append(stuck.hold_next())
        ref.tell("work")  # it will block in its handler until the gate opens
    sup.stop(timeout=10.0)
    timeouts = recorder.matching(K.STOP_TIMEOUT)
    assert sorted(e.child_id for e in timeouts) == ["stuck17", "stuck99"]
    assert len(recorder.matching(K.TERMINATED)) == 200
    assert recorder.events[-1].kind is K.SHUTDOWN
    for gate in gates:
        gate.set()


def test_dynamic_children_under_a_static_tree_are_found_by_which_children(worker, bus):
    root = Supervisor.start([DynamicSupervisor.child_spec("pool")], events=bus)
    rows = root.proxy().which_children().get()
    assert [(r.id, r.is_supervisor, r.alive) for r in rows] == [("pool", True, True)]
    counts = root.proxy().count_children().get()
    assert (counts.supervisors, counts.workers) == (1, 0)
    root.stop()


def test_terminate_children_stops_several_with_one_ask(worker, bus, recorder):
    proxy = DynamicSupervisor.start(events=bus).proxy()
    refs = {i: proxy.start_child(ChildSpec(i, worker)).get() for i in ("a", "b", "c")}
    assert proxy.terminate_children(["a", "c", "zz"]).get() == ["zz"]
    assert not refs["a"].is_alive() and not refs["c"].is_alive() and refs["b"].is_alive()
    assert [c.id for c in proxy.which_children().get()] == ["b"]
    assert {recorder.wait_for(K.TERMINATED, child_id=i).child_id for i in ("a", "c")} == {"a", "c"}
    assert proxy.terminate_children([]).get() == []
