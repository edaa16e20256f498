"""Status projection: last lifecycle event wins; leases; run segments."""

from __future__ import annotations

import pytest

from aionactors.core import events as ev
from aionactors.core.events import EVENT_TYPES
from aionactors.core.status import (
    LEASE_RESET_TYPES,
    LIFECYCLE_STATUS,
    TERMINAL_EVENT_TYPES,
    WorkflowStatus,
    current_lease_terminal,
    last_run_segment,
    run_segment,
    status_from_events,
)

from .factories import History, env, event_samples

S = WorkflowStatus

LIFECYCLE_EXPECTED = {
    "WorkflowStarted": S.RUNNING,
    "WorkflowReopened": S.RUNNING,
    "WorkflowResumed": S.RUNNING,
    "WorkflowPaused": S.PAUSED,
    "WorkflowCompleted": S.COMPLETED,
    "WorkflowFailed": S.FAILED,
    "WorkflowCancelled": S.CANCELLED,
    "WorkflowTimedOut": S.TIMED_OUT,
    "WorkflowContinuedAsNew": S.CONTINUED_AS_NEW,
}
NON_LIFECYCLE = sorted(set(EVENT_TYPES) - set(LIFECYCLE_EXPECTED))


def _sample(type_name: str, seq: int) -> ev.EventBase:
    """A sample event of ``type_name`` re-numbered to ``seq``."""
    sample = next(e for e in event_samples() if e.type == type_name)
    return sample.model_copy(update=env(seq))


# --- WorkflowStatus -------------------------------------------------------------------


def test_status_json_strings():
    assert [s.value for s in S] == [
        "Running",
        "Completed",
        "Failed",
        "Cancelled",
        "TimedOut",
        "ContinuedAsNew",
        "Paused",
    ]


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (S.RUNNING, False),
        (S.PAUSED, False),
        (S.COMPLETED, True),
        (S.FAILED, True),
        (S.CANCELLED, True),
        (S.TIMED_OUT, True),
        (S.CONTINUED_AS_NEW, True),
    ],
)
def test_is_terminal(status, terminal):
    assert status.is_terminal is terminal


def test_lifecycle_table():
    assert LIFECYCLE_STATUS == LIFECYCLE_EXPECTED
    assert set(LIFECYCLE_STATUS) <= set(EVENT_TYPES)
    terminal_types = {name for name, status in LIFECYCLE_STATUS.items() if status.is_terminal}
    assert terminal_types == TERMINAL_EVENT_TYPES
    assert frozenset({"WorkflowStarted", "WorkflowReopened"}) == LEASE_RESET_TYPES


# --- status_from_events ---------------------------------------------------------------


def test_empty_history_is_running():
    assert status_from_events([]) is S.RUNNING


@pytest.mark.parametrize(("last", "expected"), sorted(LIFECYCLE_EXPECTED.items()))
@pytest.mark.parametrize("before", ["WorkflowCompleted", "WorkflowPaused", "WorkflowStarted"])
def test_last_lifecycle_event_wins(before, last, expected):
    history = [_sample("WorkflowStarted", 1), _sample(before, 2), _sample(last, 3)]
    assert status_from_events(history) is expected


@pytest.mark.parametrize(("last", "expected"), sorted(LIFECYCLE_EXPECTED.items()))
def test_trailing_non_lifecycle_events_are_ignored(last, expected):
    history = [_sample(last, 1)]
    history += [_sample(name, seq) for seq, name in enumerate(NON_LIFECYCLE, start=2)]
    assert status_from_events(history) is expected


def test_history_of_only_non_lifecycle_events_is_running():
    history = [_sample(name, seq) for seq, name in enumerate(NON_LIFECYCLE, start=1)]
    assert status_from_events(history) is S.RUNNING


def test_started_after_continued_as_new_is_running():
    h = History()
    h.started("r1")
    h.activity()
    h.continued("r1")
    assert status_from_events(h.events) is S.CONTINUED_AS_NEW
    h.started("r2", parent_run_id="r1")
    assert status_from_events(h.events) is S.RUNNING


def test_pause_and_resume():
    h = History()
    h.started()
    h.paused()
    assert status_from_events(h.events) is S.PAUSED
    h.signal()
    assert status_from_events(h.events) is S.PAUSED
    h.resumed()
    assert status_from_events(h.events) is S.RUNNING


def test_reopen_after_failure_is_running_and_can_fail_again():
    h = History()
    h.started()
    h.failed()
    assert status_from_events(h.events) is S.FAILED
    h.reopened()
    assert status_from_events(h.events) is S.RUNNING
    h.completed()
    assert status_from_events(h.events) is S.COMPLETED


def test_status_of_a_slice():
    h = History()
    h.started()
    h.completed()
    h.reopened()
    h.signal()
    assert status_from_events(h.events[:2]) is S.COMPLETED
    assert status_from_events(h.events[2:]) is S.RUNNING
    assert status_from_events(h.events[3:]) is S.RUNNING


# --- current_lease_terminal -----------------------------------------------------------


def test_lease_terminal_empty_and_open():
    assert current_lease_terminal([]) is None
    h = History()
    h.started()
    h.activity()
    assert current_lease_terminal(h.events) is None


@pytest.mark.parametrize("terminal", sorted(TERMINAL_EVENT_TYPES))
def test_lease_terminal_returns_the_terminal_event(terminal):
    h = History()
    h.started()
    h.activity()
    closing = _sample(terminal, 3)
    h.events.append(closing)
    h.signal()
    assert current_lease_terminal(h.events) is closing


def test_pause_and_resume_are_transparent():
    h = History()
    h.started()
    done = h.completed()
    h.paused()
    h.resumed()
    h.paused()
    assert current_lease_terminal(h.events) is done
    # ...and do not close a lease themselves.
    g = History()
    g.started()
    g.paused()
    assert current_lease_terminal(g.events) is None
    g.resumed()
    assert current_lease_terminal(g.events) is None


@pytest.mark.parametrize("reset", ["started", "reopened"])
def test_reset_points_open_a_new_lease(reset):
    h = History()
    h.started("r1")
    h.failed()
    if reset == "started":
        h.started("r2", parent_run_id="r1")
    else:
        h.reopened("r1")
    h.activity()
    assert current_lease_terminal(h.events) is None
    second = h.cancelled()
    assert current_lease_terminal(h.events) is second


def test_latest_terminal_of_the_lease_wins():
    h = History()
    h.started()
    h.failed()
    later = h.timed_out()
    assert current_lease_terminal(h.events) is later


def test_lease_terminal_without_reset_point():
    h = History()
    h.signal()
    done = h.completed()
    assert current_lease_terminal(h.events) is done


# --- run segments ---------------------------------------------------------------------


def _three_runs() -> History:
    h = History()
    h.started("r1")
    h.activity()
    h.continued("r1")
    h.started("r2", parent_run_id="r1")
    h.signal()
    h.continued("r2")
    h.started("r3", parent_run_id="r2")
    h.activity()
    h.completed()
    return h


def test_run_segment_slices_each_run():
    h = _three_runs()
    assert run_segment(h.events, "r1") == h.events[0:3]
    assert run_segment(h.events, "r2") == h.events[3:6]
    assert run_segment(h.events, "r3") == h.events[6:9]


def test_run_segment_unknown_run_is_empty():
    assert run_segment(_three_runs().events, "nope") == []
    assert run_segment([], "r1") == []


def test_run_segment_keeps_reopen_in_its_run():
    h = History()
    h.started("r1")
    h.failed()
    h.reopened("r1")
    h.completed()
    assert run_segment(h.events, "r1") == h.events


def test_run_segment_returns_a_new_list():
    h = _three_runs()
    segment = run_segment(h.events, "r3")
    segment.clear()
    assert len(h.events) == 9


def test_last_run_segment():
    h = _three_runs()
    assert last_run_segment(h.events) == h.events[6:]
    assert last_run_segment(h.events[:5]) == h.events[3:5]
    assert last_run_segment(h.events[:1]) == h.events[:1]
    assert last_run_segment([]) == []
    no_start = History()
    no_start.signal()
    assert last_run_segment(no_start.events) == []
