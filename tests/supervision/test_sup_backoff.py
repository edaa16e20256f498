"""Backoff: delays grow exponentially within jitter bounds, on an injected clock, off-mailbox."""

from __future__ import annotations

import random
import threading

import pytest

from supervision import Backoff, ChildSpec, EventKind, Strategy, Supervisor, SystemClock
from supervision.testing import ManualClock, crash

K = EventKind


def test_base_delay_grows_exponentially_up_to_the_maximum():
    backoff = Backoff(initial=0.1, maximum=1.0, multiplier=2.0)
    assert [backoff.base_delay(n) for n in range(6)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    )
    assert backoff.base_delay(10_000) == 1.0  # no overflow


def test_jitter_stays_within_its_bounds():
    rng = random.Random(7)
    backoff = Backoff(initial=0.1, maximum=30.0, jitter=0.25, random=rng.random)
    for attempt in range(12):
        base = backoff.base_delay(attempt)
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(base * 0.75 <= d <= base for d in delays)
        assert max(delays) - min(delays) > base * 0.1  # it really varies
    assert Backoff(jitter=0.5, random=lambda: 0.0).delay(3) == pytest.approx(0.8)
    assert Backoff(jitter=0.5, random=lambda: 0.999999).delay(3) == pytest.approx(0.4, rel=1e-4)


@pytest.mark.parametrize(
    "bad",
    [{"initial": -1}, {"initial": 2, "maximum": 1}, {"multiplier": 0.5}, {"jitter": 1.5}],
)
def test_backoff_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        Backoff(**bad)


def _sup(worker, bus, clock, backoff, **options):
    options.setdefault("max_restarts", 100)
    options.setdefault("period", 1000.0)
    return Supervisor.start(
        [ChildSpec("x", worker), ChildSpec("y", worker)],
        events=bus,
        clock=clock,
        backoff=backoff,
        **options,
    )


def test_restarts_wait_growing_delays_on_the_clock_without_blocking_the_mailbox(
    worker, bus, recorder
):
    clock = ManualClock()
    backoff = Backoff(initial=0.1, maximum=10.0, jitter=0.2, random=random.Random(1).random)
    sup = _sup(worker, bus, clock, backoff)
    proxy = sup.proxy()
    delays = []
    for attempt in range(5):
        mark = recorder.mark()
        crash(proxy.child_ref("x").get())
        scheduled = recorder.wait_for(K.RESTART_SCHEDULED, child_id="x", since=mark)
        base = backoff.base_delay(attempt)
        assert base * 0.8 <= scheduled.delay <= base
        assert clock.wait_for_pending() == [scheduled.delay]
        # The supervisor keeps serving while the child waits: the mailbox is free.
        rows = {c.id: c for c in proxy.which_children().get()}
        assert rows["x"].restarting
        assert not rows["x"].alive
        assert rows["y"].alive
        assert proxy.child_ref("y").get().ask("inc") >= 1
        assert clock.advance(scheduled.delay * 0.5) == 0  # not yet
        assert recorder.matching(K.RESTARTED, since=mark) == []
        assert clock.advance(scheduled.delay) == 1
        recorder.wait_for(K.RESTARTED, child_id="x", since=mark)
        delays.append(scheduled.delay)
    assert delays == sorted(delays)
    assert delays[-1] > 8 * delays[0] * 0.8
    sup.stop()


def test_a_child_that_ran_long_enough_starts_again_from_the_initial_delay(worker, bus, recorder):
    clock = ManualClock()
    backoff = Backoff(initial=1.0, maximum=60.0, jitter=0.0, reset_after=30.0)
    sup = _sup(worker, bus, clock, backoff)
    proxy = sup.proxy()
    for expected in (1.0, 2.0, 4.0):
        mark = recorder.mark()
        crash(proxy.child_ref("x").get())
        assert recorder.wait_for(K.RESTART_SCHEDULED, since=mark).delay == expected
        clock.advance(expected)
        recorder.wait_for(K.RESTARTED, since=mark)
    clock.advance(31.0)  # healthy for longer than reset_after
    mark = recorder.mark()
    crash(proxy.child_ref("x").get())
    assert recorder.wait_for(K.RESTART_SCHEDULED, since=mark).delay == 1.0
    sup.stop()


def test_delayed_restarts_still_count_toward_intensity(worker, bus, recorder):
    clock = ManualClock()
    failed = []
    sup = _sup(
        worker,
        bus,
        clock,
        Backoff(initial=1.0, jitter=0.0),
        max_restarts=2,
        period=100.0,
        on_root_failure=failed.append,
    )
    proxy = sup.proxy()
    for attempt in range(2):
        mark = recorder.mark()
        crash(proxy.child_ref("x").get())
        delay = recorder.wait_for(K.RESTART_SCHEDULED, since=mark).delay
        assert delay == 2.0**attempt
        clock.advance(delay)
        recorder.wait_for(K.RESTARTED, since=mark)
    crash(proxy.child_ref("x").get())
    escalated = recorder.wait_for(K.ESCALATED)
    assert escalated.child_id == "x"
    recorder.wait_for(K.ROOT_FAILED)
    assert failed == [escalated.exception]
    assert clock.pending == []


def test_group_restart_waits_for_the_crashed_childs_backoff(worker, bus, recorder):
    clock = ManualClock()
    sup = _sup(worker, bus, clock, Backoff(initial=0.5, jitter=0.0), strategy=Strategy.ONE_FOR_ALL)
    proxy = sup.proxy()
    crash(proxy.child_ref("y").get())
    recorder.wait_for(K.RESTART_SCHEDULED, child_id="y")
    assert [c.restarting for c in proxy.which_children().get()] == [True, True]
    clock.advance(0.5)
    recorder.wait_for(K.RESTARTED, child_id="y")
    assert [e.child_id for e in recorder.matching(K.RESTARTED)] == ["x", "y"]
    sup.stop()


def test_stopping_a_supervisor_cancels_its_pending_restarts(worker, bus, recorder):
    clock = ManualClock()
    sup = _sup(worker, bus, clock, Backoff(initial=5.0))
    crash(sup.proxy().child_ref("x").get())
    clock.wait_for_pending()
    sup.stop()
    assert clock.pending == []
    assert clock.advance(10.0) == 0


def test_system_clock_runs_callbacks_in_due_order_and_cancels():
    clock = SystemClock()
    fired = []
    done = threading.Event()
    clock.call_later(0.02, lambda: (fired.append("late"), done.set()))
    clock.call_later(0.0, lambda: fired.append("soon"))
    clock.call_later(0.01, lambda: fired.append("never")).cancel()
    assert done.wait(5.0)
    assert fired == ["soon", "late"]
    threads = [t for t in threading.enumerate() if t.name == "supervision-clock"]
    for thread in threads:
        thread.join(5.0)  # the clock thread ends once nothing is pending
    assert clock._thread is None


def test_a_real_backoff_restart_runs_on_the_system_clock(worker, bus, recorder, no_thread_leak):
    sup = Supervisor.start(
        [ChildSpec("x", worker)], events=bus, backoff=Backoff(initial=0.01, jitter=0.0)
    )
    crash(sup.proxy().child_ref("x").get())
    assert recorder.wait_for(K.RESTART_SCHEDULED).delay == 0.01
    restarted = recorder.wait_for(K.RESTARTED)
    assert restarted.ref.ask("count") == 0
    sup.stop()
    no_thread_leak()  # the clock thread ends once nothing is pending
