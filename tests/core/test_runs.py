"""The continue-as-new run chain of one history."""

from __future__ import annotations

from itertools import pairwise

import pytest

from aionactors.core.errors import RunChainError, StoreError
from aionactors.core.runs import RunSummary, run_chain_from_history, split_runs
from aionactors.core.status import WorkflowStatus

from .factories import History, at

S = WorkflowStatus


def _chain(*run_ids: str) -> History:
    """Runs continued one into the next; the last one is left running."""
    h = History()
    parent = None
    for run_id in run_ids:
        if parent is not None:
            h.continued(parent)
        h.started(run_id, parent_run_id=parent)
        h.activity()
        parent = run_id
    return h


def test_empty_history_has_no_runs():
    assert run_chain_from_history([]) == []


def test_history_without_started_has_no_runs():
    h = History()
    h.signal()
    assert run_chain_from_history(h.events) == []


def test_single_running_run():
    h = History()
    h.started("r1")
    h.activity()
    assert run_chain_from_history(h.events) == [
        RunSummary(
            run_id="r1", parent_run_id=None, status=S.RUNNING, started_at=at(1), closed_at=None
        )
    ]


def test_single_completed_run():
    h = History()
    h.started("r1")
    done = h.completed()
    [run] = run_chain_from_history(h.events)
    assert run.status is S.COMPLETED
    assert run.closed_at == done.recorded_at


def test_several_runs_in_order():
    h = _chain("r1", "r2", "r3", "r4")
    h.completed()
    chain = run_chain_from_history(h.events)
    assert [r.run_id for r in chain] == ["r1", "r2", "r3", "r4"]
    assert [r.parent_run_id for r in chain] == [None, "r1", "r2", "r3"]
    assert [r.status for r in chain] == [S.CONTINUED_AS_NEW] * 3 + [S.COMPLETED]
    # Each continued run closes at its ContinuedAsNew; the next starts right after.
    for run, successor in pairwise(chain):
        assert run.closed_at is not None
        assert run.started_at < run.closed_at < successor.started_at
    assert chain[-1].closed_at == h.events[-1].recorded_at


def test_run_fields_per_run():
    h = _chain("a", "b")
    chain = run_chain_from_history(h.events)
    # a: Started(1) Scheduled(2) ContinuedAsNew(3); b: Started(4) Scheduled(5)
    assert chain == [
        RunSummary(
            run_id="a",
            parent_run_id=None,
            status=S.CONTINUED_AS_NEW,
            started_at=at(1),
            closed_at=at(3),
        ),
        RunSummary(run_id="b", parent_run_id="a", status=S.RUNNING, started_at=at(4)),
    ]


def test_chain_ignores_input_order():
    h = _chain("r1", "r2", "r3")
    shuffled = list(reversed(h.events))
    assert run_chain_from_history(shuffled) == run_chain_from_history(h.events)


def test_runs_are_chained_by_parent_links_not_position():
    # Same runs, but recorded so the parent link order differs from seq order.
    h = History()
    h.started("root")
    h.continued("root")
    h.started("c2", parent_run_id="c1")
    h.continued("c2")
    h.started("c1", parent_run_id="root")
    chain = run_chain_from_history(h.events)
    assert [r.run_id for r in chain] == ["root", "c1", "c2"]


def test_reopened_run_is_running_and_open():
    h = History()
    h.started("r1")
    h.failed()
    h.reopened("r1")
    [run] = run_chain_from_history(h.events)
    assert run.status is S.RUNNING
    assert run.closed_at is None


def test_paused_run_is_paused_and_open():
    h = History()
    h.started("r1")
    h.paused("r1")
    [run] = run_chain_from_history(h.events)
    assert run.status is S.PAUSED
    assert run.closed_at is None


def test_failed_then_timed_out_closes_at_latest_terminal():
    h = History()
    h.started("r1")
    h.failed()
    last = h.timed_out()
    [run] = run_chain_from_history(h.events)
    assert run.status is S.TIMED_OUT
    assert run.closed_at == last.recorded_at


def test_events_before_first_start_are_dropped():
    h = History()
    h.signal()
    h.started("r1")
    h.completed()
    assert split_runs(h.events) == [h.events[1:]]
    [run] = run_chain_from_history(h.events)
    assert run.started_at == at(2)


def test_split_runs_sorts_by_seq():
    h = _chain("r1", "r2")
    assert split_runs(list(reversed(h.events))) == [h.events[:3], h.events[3:]]


def test_two_roots_is_an_error():
    h = History()
    h.started("r1")
    h.continued("r1")
    h.started("r2")  # forgot its parent link
    with pytest.raises(RunChainError, match="exactly one root"):
        run_chain_from_history(h.events)


def test_no_root_is_an_error():
    h = History()
    h.started("r2", parent_run_id="r1")
    with pytest.raises(RunChainError, match="exactly one root"):
        run_chain_from_history(h.events)


def test_orphaned_run_is_an_error():
    h = _chain("r1", "r2")
    h.continued("r2")
    h.started("r9", parent_run_id="missing")
    with pytest.raises(RunChainError, match="orphaned"):
        run_chain_from_history(h.events)


def test_forked_chain_is_an_error():
    h = History()
    h.started("r1")
    h.continued("r1")
    h.started("r2", parent_run_id="r1")
    h.continued("r2")
    h.started("r3", parent_run_id="r1")  # a second child of r1
    with pytest.raises(RunChainError):
        run_chain_from_history(h.events)


def test_run_chain_error_is_a_store_error():
    error = RunChainError("x")
    assert isinstance(error, StoreError)
    assert error.to_wire() == {"code": "backend", "message": "x", "error_type": "RunChainError"}
