"""A real workflow end to end on SQLite, with a manual clock: activities, timer, signal, query."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from aionactors import Engine, QueryFailed, UnknownQuery, WorkflowStatus
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    NotRunning,
    WorkflowNotFound,
    WorkflowTypeNotFound,
)
from aionactors.engine.clock import ManualClock
from aionactors.engine.outcomes import ResultTimeout
from tests.engine import workflows as w
from tests.engine.support import CommitWatch, shape


def run_mixed(engine: Engine, watch: CommitWatch, clock: ManualClock, n: int = 3) -> str:
    handle = engine.start_workflow(w.Mixed, n, workflow_id=f"mixed-{n}")
    watch.has(handle.workflow_id, "TimerStarted")
    clock.advance(timedelta(minutes=5))
    watch.has(handle.workflow_id, "TimerFired")
    engine.signal(handle.workflow_id, "proceed", {"from": "test"})
    return handle.workflow_id


def test_mixed_workflow_runs_to_completion(engine: Engine, watch: CommitWatch, clock) -> None:
    workflow_id = run_mixed(engine, watch, clock)
    result = engine.result(workflow_id, timeout=20)
    assert result == {"first": 6, "pair": [12, 7], "seen": [{"from": "test"}], "token_len": 36}
    history = engine.history(workflow_id)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert shape(history)[:8] == [
        ("WorkflowStarted",),
        ("SearchAttributesUpdated",),
        ("ActivityScheduled", "0", "double"),
        ("ActivityStarted", "0"),
        ("ActivityCompleted", "0"),
        ("TimerStarted", "anonymous:0"),
        ("TimerFired", "anonymous:0"),
        ("SignalReceived", "proceed"),
    ]
    assert history[-1].type == "WorkflowCompleted"
    summary = engine.describe(workflow_id).summary
    assert summary.status == WorkflowStatus.COMPLETED and summary.namespace == "default"
    assert engine.count_workflows(status=WorkflowStatus.COMPLETED) == 1


def test_query_reads_live_state_without_touching_history(engine, watch, clock) -> None:
    handle = engine.start_workflow(w.Parked, workflow_id="q")
    watch.has("q", "SearchAttributesUpdated")
    before = engine.store.head_seq("q")
    with pytest.raises(UnknownQuery):
        engine.query("q", "nope")
    assert engine.store.head_seq("q") == before
    engine.signal("q", "put", {"v": 1})
    assert engine.result(handle.workflow_id, timeout=20) == {"v": 1}
    with pytest.raises(NotRunning):
        engine.query("q", "anything")


def test_query_handler_error_is_query_failed(engine, watch) -> None:
    engine.start_workflow(w.Mixed, 1, workflow_id="m")
    watch.has("m", "TimerStarted")
    assert engine.query("m", "progress") == {"go": False, "seen": []}
    with pytest.raises(QueryFailed):
        engine.query("m", "progress", "unexpected-argument")


def test_signal_is_durable_before_it_returns_and_terminal_targets_refuse(engine, watch) -> None:
    engine.start_workflow(w.Parked, workflow_id="s")
    engine.signal("s", "put", 42)
    assert any(e.type == "SignalReceived" for e in engine.store.read_history("s"))
    assert engine.result("s", timeout=20) == 42
    head = engine.store.head_seq("s")
    with pytest.raises(NotRunning):
        engine.signal("s", "put", 43)
    assert engine.store.head_seq("s") == head
    with pytest.raises(WorkflowNotFound):
        engine.signal("ghost", "put", 1)


def test_signals_racing_with_completion_are_each_recorded_once_or_refused(engine) -> None:
    engine.start_workflow(w.Parked, workflow_id="race")
    outcomes: list[str] = []

    def send(value: int) -> None:
        try:
            engine.signal("race", "put", value)
            outcomes.append("accepted")
        except NotRunning:
            outcomes.append("refused")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = engine.result("race", timeout=20)
    history = engine.store.read_history("race")
    signals = [e for e in history if e.type == "SignalReceived"]
    assert len(signals) == outcomes.count("accepted") >= 1
    assert result == signals[0].payload
    assert history[-1].type == "WorkflowCompleted"
    assert [e.seq for e in history] == list(range(1, len(history) + 1))


def test_start_rejects_bad_input_and_duplicates(engine, watch) -> None:
    with pytest.raises(WorkflowTypeNotFound):
        engine.start_workflow("no-such-type")
    with pytest.raises(InvalidInput, match="JSON"):
        engine.start_workflow(w.Parked, object())
    engine.start_workflow(w.Parked, workflow_id="dup")
    with pytest.raises(AlreadyExists):
        engine.start_workflow(w.Parked, workflow_id="dup")
    engine.signal("dup", "put", "done")
    engine.result("dup", timeout=20)
    again = engine.start_workflow(w.Parked, workflow_id="dup")
    runs = engine.describe("dup").runs
    assert [r.run_id for r in runs][-1] == again.run_id and len(runs) == 2


def test_result_timeout_and_cancel(engine, watch) -> None:
    engine.start_workflow(w.Sleeper, 1.0, workflow_id="sleepy")
    watch.has("sleepy", "TimerStarted")
    with pytest.raises(ResultTimeout):
        engine.result("sleepy", timeout=0.05)
    engine.cancel("sleepy", "changed my mind")
    from aionactors import WorkflowCancelledError

    with pytest.raises(WorkflowCancelledError, match="changed my mind"):
        engine.result("sleepy", timeout=20)
    history = engine.history("sleepy")
    assert [e.type for e in history][-3:] == [
        "WorkflowCancelRequested",
        "TimerCancelled",  # teardown, recorded with the request
        "WorkflowCancelled",  # the code let the CancelledError out: the run ends Cancelled
    ]
    assert history[-2].cause == "CancelTeardown"
    assert history[-1].reason == "changed my mind"
    assert engine.store.expired_timers(engine.clock.now() + timedelta(days=1)) == []
    with pytest.raises(NotRunning):
        engine.cancel("sleepy")


def test_namespaces_and_search_attributes_are_recorded_at_start(engine, watch) -> None:
    handle = engine.start_workflow(
        w.Parked, workflow_id="ns", namespace="tenant-a", search_attributes={"priority": 3}
    )
    summary = engine.describe(handle.workflow_id).summary
    assert summary.namespace == "tenant-a"
    assert summary.search_attributes["priority"].data == 3
    listed = engine.list_workflows(namespace="tenant-a").workflows
    assert [s.workflow_id for s in listed] == [handle.workflow_id]
    assert engine.get_handle("ns", namespace="tenant-a") == handle
    with pytest.raises(InvalidInput):
        engine.start_workflow(w.Parked, search_attributes={"aion.namespace": "spoof"})
