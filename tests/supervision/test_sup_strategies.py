"""Each strategy restarts exactly the right children, in the right order, with fresh state."""

from __future__ import annotations

from supervision import ChildSpec, EventKind, Restart, Strategy, Supervisor
from supervision.testing import crash

K = EventKind


def _tree(worker, journal, bus, strategy, names="abcd", **restart):
    specs = [
        ChildSpec(n, worker, args=(n, journal), restart=restart.get(n, Restart.PERMANENT))
        for n in names
    ]
    return Supervisor.start(specs, strategy=strategy, events=bus, max_restarts=10)


def _refs(sup):
    return {c.id: c.ref for c in sup.proxy().which_children().get()}


def _kinds(recorder, since):
    return [(e.kind, e.child_id) for e in recorder.events[since:]]


def test_one_for_one_restarts_only_the_crashed_child_with_fresh_state(
    worker, journal, bus, recorder
):
    sup = _tree(worker, journal, bus, Strategy.ONE_FOR_ONE, "abc")
    before = _refs(sup)
    for ref in before.values():
        ref.ask("inc")
    mark = recorder.mark()
    crash(before["b"])
    recorder.wait_for(K.RESTARTED, child_id="b", since=mark)
    after = _refs(sup)
    assert after["a"] is before["a"]
    assert after["c"] is before["c"]
    assert after["b"] is not before["b"]
    assert not before["b"].is_alive()
    assert after["b"].ask("count") == 0  # a fresh instance
    assert after["a"].ask("count") == 1
    assert _kinds(recorder, mark) == [(K.CRASHED, "b"), (K.RESTARTED, "b")]
    sup.stop()


def test_one_for_all_stops_the_others_in_reverse_then_starts_all_in_order(
    worker, journal, bus, recorder
):
    sup = _tree(worker, journal, bus, Strategy.ONE_FOR_ALL, "abcd")
    before = _refs(sup)
    for ref in before.values():
        ref.ask("inc")
    mark = recorder.mark()
    journal.clear()
    crash(before["b"])
    recorder.wait_for(K.RESTARTED, child_id="d", since=mark)
    assert _kinds(recorder, mark) == [
        (K.CRASHED, "b"),
        (K.TERMINATED, "d"),
        (K.TERMINATED, "c"),
        (K.TERMINATED, "a"),
        (K.RESTARTED, "a"),
        (K.RESTARTED, "b"),
        (K.RESTARTED, "c"),
        (K.RESTARTED, "d"),
    ]
    # Stops are synchronous, so the journal shows their order too.
    stops = [e for e in journal if e[0] in ("stop", "failure")]
    assert stops == [("failure", "b"), ("stop", "d"), ("stop", "c"), ("stop", "a")]
    after = _refs(sup)
    assert all(after[n] is not before[n] for n in "abcd")
    assert all(after[n].ask("count") == 0 for n in "abcd")
    sup.stop()


def test_rest_for_one_restarts_the_crashed_child_and_those_started_after_it(
    worker, journal, bus, recorder
):
    sup = _tree(worker, journal, bus, Strategy.REST_FOR_ONE, "abcd")
    before = _refs(sup)
    mark = recorder.mark()
    journal.clear()
    crash(before["b"])
    recorder.wait_for(K.RESTARTED, child_id="d", since=mark)
    assert _kinds(recorder, mark) == [
        (K.CRASHED, "b"),
        (K.TERMINATED, "d"),
        (K.TERMINATED, "c"),
        (K.RESTARTED, "b"),
        (K.RESTARTED, "c"),
        (K.RESTARTED, "d"),
    ]
    assert [e for e in journal if e[0] == "stop"] == [("stop", "d"), ("stop", "c")]
    after = _refs(sup)
    assert after["a"] is before["a"]
    assert all(after[n] is not before[n] for n in "bcd")
    assert [c.id for c in sup.proxy().which_children().get()] == list("abcd")  # order kept
    sup.stop()


def test_rest_for_one_crash_of_the_last_child_restarts_only_it(worker, journal, bus, recorder):
    sup = _tree(worker, journal, bus, Strategy.REST_FOR_ONE, "abc")
    before = _refs(sup)
    mark = recorder.mark()
    crash(before["c"])
    recorder.wait_for(K.RESTARTED, child_id="c", since=mark)
    assert _kinds(recorder, mark) == [(K.CRASHED, "c"), (K.RESTARTED, "c")]
    sup.stop()


def test_group_restart_drops_temporary_members_and_leaves_finished_transients_alone(
    worker, journal, bus, recorder
):
    sup = _tree(
        worker, journal, bus, Strategy.ONE_FOR_ALL, "atrc", t=Restart.TEMPORARY, r=Restart.TRANSIENT
    )
    before = _refs(sup)
    before["r"].stop()  # a transient that finished its job
    recorder.wait_for(K.EXITED, child_id="r")
    mark = recorder.mark()
    crash(before["a"])
    recorder.wait_for(K.RESTARTED, child_id="c", since=mark)
    assert _kinds(recorder, mark) == [
        (K.CRASHED, "a"),
        (K.TERMINATED, "c"),
        (K.TERMINATED, "t"),
        (K.RESTARTED, "a"),
        (K.RESTARTED, "c"),
    ]
    rows = {c.id: c for c in sup.proxy().which_children().get()}
    assert list(rows) == ["a", "r", "c"]  # the temporary one is gone
    assert not rows["r"].alive
    assert rows["a"].alive
    assert rows["c"].alive
    sup.stop()
