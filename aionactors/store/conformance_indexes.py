"""Conformance cases for the rows that follow a history (``store.indexes``).

Mix into a backend's test class beside :class:`EventStoreConformance`:

>>> class TestMyStore(EventStoreConformance, IndexConformance):   # doctest: +SKIP
...     def make_store(self) -> EventStore: ...
"""

from __future__ import annotations

from datetime import timedelta

from aionactors.core.errors import SequenceConflict
from aionactors.core.events import (
    TimerCancelled,
    TimerFired,
    TimerStarted,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowPaused,
    WorkflowReopened,
)
from aionactors.core.ids import TimerId
from aionactors.core.payload import WorkflowError
from aionactors.store.conformance import T0, TOKEN, HistoryBuilder
from aionactors.store.contract import AppendRequest, EventStore

NAP = TimerId.named("nap")
LATER = T0 + timedelta(hours=1)


def _timers(store: EventStore) -> list[tuple[str, str]]:
    due = store.expired_timers(T0 + timedelta(days=365))
    return [(t.workflow_id, str(t.timer_id)) for t in due]


def _append(store: EventStore, workflow_id: str, events: list, wake: bool | None = None) -> None:
    request = AppendRequest(workflow_id, events, events[0].seq - 1, wake)
    (outcome,) = store.append_batch(TOKEN, [request])
    if outcome is not None:
        raise outcome


class IndexConformance:
    """Timer rows and the wake index change in the same append as the events they follow."""

    # ---- timer rows ---------------------------------------------------------------------
    def test_timer_started_writes_its_row(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started(), b.make(TimerStarted, timer_id=NAP, fire_at=LATER)])
        (entry,) = store.expired_timers(LATER)
        assert (entry.workflow_id, entry.timer_id, entry.fire_at) == ("wf", NAP, LATER)
        assert store.expired_timers(LATER - timedelta(microseconds=1)) == []

    def test_timer_fired_or_cancelled_removes_its_row(self, store: EventStore) -> None:
        other = TimerId.named("other")
        b = HistoryBuilder("wf")
        _append(
            store,
            "wf",
            [
                b.started(),
                b.make(TimerStarted, timer_id=NAP, fire_at=LATER),
                b.make(TimerStarted, timer_id=other, fire_at=LATER),
            ],
        )
        _append(store, "wf", [b.make(TimerFired, timer_id=NAP)])
        assert _timers(store) == [("wf", "named:other")]
        _append(store, "wf", [b.make(TimerCancelled, timer_id=other)])
        assert _timers(store) == []

    def test_a_run_end_removes_every_row_of_the_workflow(self, store: EventStore) -> None:
        b, c = HistoryBuilder("wf"), HistoryBuilder("bystander")
        _append(store, "wf", [b.started(), b.make(TimerStarted, timer_id=NAP, fire_at=LATER)])
        _append(store, "bystander", [c.started(), c.make(TimerStarted, timer_id=NAP, fire_at=T0)])
        _append(store, "wf", [b.make(WorkflowCompleted, result=None)])
        assert _timers(store) == [("bystander", "named:nap")]

    def test_a_successor_started_after_the_end_keeps_its_rows(self, store: EventStore) -> None:
        deadline = TimerId.named("deadline:run-2")
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started(), b.make(TimerStarted, timer_id=NAP, fire_at=LATER)])
        _append(
            store,
            "wf",
            [
                b.make(WorkflowContinuedAsNew, parent_run_id="run-1", input=None),
                b.started(run_id="run-2", parent_run_id="run-1"),
                b.make(TimerStarted, timer_id=deadline, fire_at=LATER),
            ],
        )
        assert _timers(store) == [("wf", "named:deadline:run-2")]
        assert store.list_wake() == ["wf"]

    def test_a_refused_append_writes_no_rows(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started()], wake=False)
        stale = b.make(TimerStarted, timer_id=NAP, fire_at=LATER).model_copy(update={"seq": 1})
        (outcome,) = store.append_batch(TOKEN, [AppendRequest("wf", [stale], 0, wake=True)])
        assert isinstance(outcome, SequenceConflict)
        assert _timers(store) == []
        assert store.list_wake() == []

    # ---- the wake index -----------------------------------------------------------------
    def test_a_start_enters_the_wake_index(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started()])
        assert store.list_wake() == ["wf"]

    def test_the_writer_sets_and_clears_the_flag(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started()])
        _append(store, "wf", [b.signal()], wake=False)
        assert store.list_wake() == []
        _append(store, "wf", [b.signal()])  # None: as it was
        assert store.list_wake() == []
        _append(store, "wf", [b.signal()], wake=True)
        assert store.list_wake() == ["wf"]

    def test_an_end_always_clears_and_a_reopen_sets(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started()])
        error = WorkflowError(message="boom")
        _append(store, "wf", [b.make(WorkflowFailed, error=error)], wake=True)
        assert store.list_wake() == []
        _append(store, "wf", [b.make(WorkflowReopened, run_id="run-1", reopened=[])])
        assert store.list_wake() == ["wf"]

    def test_only_running_workflows_are_listed(self, store: EventStore) -> None:
        b, p = HistoryBuilder("running"), HistoryBuilder("paused")
        _append(store, "running", [b.started()])
        _append(store, "paused", [p.started(), p.make(WorkflowPaused, run_id="run-1")])
        _append(store, "schedule:tick", [HistoryBuilder("schedule:tick").signal()], wake=True)
        assert store.list_wake() == ["running"]

    def test_a_request_without_events_only_sets_the_flag(self, store: EventStore) -> None:
        b = HistoryBuilder("wf")
        _append(store, "wf", [b.started()])
        (outcome,) = store.append_batch(TOKEN, [AppendRequest("wf", [], 1, wake=False)])
        assert outcome is None
        assert store.list_wake() == []
        assert store.head_seq("wf") == 1
        (stale,) = store.append_batch(TOKEN, [AppendRequest("wf", [], 0, wake=True)])
        assert isinstance(stale, SequenceConflict)
        assert store.list_wake() == []
