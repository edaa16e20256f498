"""Events and introspection: frozen, timestamped events; subscribers cannot break a supervisor."""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest

from supervision import (
    ChildSpec,
    EventBus,
    EventKind,
    Restart,
    SupervisionEvent,
    Supervisor,
    log_event,
)
from supervision.testing import EventRecorder, crash

K = EventKind


def test_events_are_frozen_and_carry_what_happened(worker, bus, recorder):
    t0 = time.time()
    sup = Supervisor.start([ChildSpec("x", worker)], events=bus, name="svc")
    ref = recorder.wait_for(K.STARTED).ref
    boom = ValueError("boom")
    crash(ref, boom)
    event = recorder.wait_for(K.CRASHED)
    assert (event.kind, event.supervisor, event.child_id, event.exception) == (
        K.CRASHED,
        "svc",
        "x",
        boom,
    )
    assert t0 <= event.timestamp <= time.time()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.kind = K.STARTED  # type: ignore[misc]
    sup.stop()


def test_a_failing_subscriber_is_logged_and_skipped(worker, recorder, caplog):
    def broken(event: SupervisionEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus = EventBus(broken, recorder)
    sup = Supervisor.start([ChildSpec("x", worker)], events=bus)
    crash(sup.proxy().child_ref("x").get())
    recorder.wait_for(K.RESTARTED)
    assert sup.is_alive()
    assert any("subscriber" in r.getMessage() for r in caplog.records)
    sup.stop()


def test_unsubscribe_stops_delivery(worker):
    first, second = EventRecorder(), EventRecorder()
    bus = EventBus(first)
    unsubscribe = bus.subscribe(second)
    sup = Supervisor.start([ChildSpec("x", worker)], events=bus)
    sup.proxy().which_children().get()
    unsubscribe()
    sup.stop()
    assert [e.kind for e in second.events] == [K.STARTED]
    assert [e.kind for e in first.events] == [K.STARTED, K.TERMINATED, K.SHUTDOWN]


def test_log_event_logs_crashes_as_warnings(worker, caplog):
    caplog.set_level(logging.INFO, logger="supervision")
    recorder = EventRecorder()
    sup = Supervisor.start([ChildSpec("x", worker)], events=EventBus(log_event, recorder))
    crash(sup.proxy().child_ref("x").get())
    recorder.wait_for(K.RESTARTED)
    sup.stop()
    ours = [r for r in caplog.records if r.name == "supervision"]
    levels = {r.getMessage().split(": ")[1].split()[0]: r.levelno for r in ours}
    assert levels["crashed"] == logging.WARNING
    assert levels["restarted"] == logging.INFO


def test_which_children_and_count_children_describe_a_live_tree(worker, bus):
    sub = Supervisor.child_spec("sub", [ChildSpec("y", worker)])
    sup = Supervisor.start(
        [ChildSpec("x", worker, restart=Restart.TRANSIENT), sub, ChildSpec("z", worker)],
        events=bus,
    )
    rows = sup.proxy().which_children().get()
    assert [(r.id, r.restart, r.alive, r.is_supervisor) for r in rows] == [
        ("x", Restart.TRANSIENT, True, False),
        ("sub", Restart.PERMANENT, True, True),
        ("z", Restart.PERMANENT, True, False),
    ]
    counts = sup.proxy().count_children().get()
    assert (counts.specs, counts.active, counts.supervisors, counts.workers) == (3, 3, 1, 2)
    rows[0].ref.stop()
    sup.proxy().which_children().get()  # let the exit notice arrive
    sup.stop()


def test_nested_supervisors_share_the_bus_and_are_named_by_path(worker, bus, recorder):
    sub = Supervisor.child_spec("sub", [ChildSpec("y", worker)])
    sup = Supervisor.start([sub], events=bus, name="app")
    recorder.wait_for(K.STARTED, supervisor="app/sub", child_id="y")
    sup.stop()
    assert [(e.supervisor, e.kind) for e in recorder.events[-4:]] == [
        ("app/sub", K.TERMINATED),
        ("app/sub", K.SHUTDOWN),
        ("app", K.TERMINATED),
        ("app", K.SHUTDOWN),
    ]


@pytest.mark.parametrize(
    ("start", "options", "error"),
    [
        (object, {}, TypeError),
        ("nope", {}, TypeError),
        (lambda: None, {"args": (1,)}, ValueError),
        (None, {"shutdown": -1}, ValueError),
    ],
)
def test_child_specs_reject_mistakes_early(worker, start, options, error):
    with pytest.raises(error):
        ChildSpec("x", start if start is not None else worker, **options)


def test_duplicate_ids_in_a_spec_list_are_refused(worker):
    from supervision import ChildAlreadyStarted

    with pytest.raises(ChildAlreadyStarted):
        Supervisor.start([ChildSpec("x", worker), ChildSpec("x", worker)])
