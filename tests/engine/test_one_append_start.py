"""A start and the code's first reaction to it are one append (issue 19, "one append per
step"): the start is acknowledged once that append is durable, a refused append leaves
nothing behind, and a fault in the first step still keeps the acknowledged start."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from aionactors import Engine, activity, workflow
from aionactors.core.events import Event
from aionactors.engine import workflow_actor
from aionactors.store import SQLiteStore, StoreUnavailable
from aionactors.store.contract import AppendRequest
from tests.engine import workflows as w
from tests.engine.support import WAIT, CommitWatch, checked, open_engine


@activity.defn(name="once.echo")
def echo(value: Any) -> Any:
    return value


@workflow.defn(name="once.instant")
class Instant:
    @workflow.run
    async def run(self, value: Any) -> Any:
        return value


@workflow.defn(name="once.one_step")
class OneStep:
    @workflow.run
    async def run(self, value: Any) -> Any:
        return await workflow.execute_activity(echo, value)


class RefusingStore(SQLiteStore):
    """Refuses the next ``refusals`` appends as a locked database would (an injected fault)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.refusals = 0
        self.history_reads: list[str] = []

    def read_history_from(self, workflow_id: str, from_seq: int) -> list[Event]:
        self.history_reads.append(workflow_id)
        return super().read_history_from(workflow_id, from_seq)

    def _append_batch(self, requests: list[AppendRequest]) -> list[Any]:
        if self.refusals:
            self.refusals -= 1
            raise StoreUnavailable("injected: database is locked")
        return super()._append_batch(requests)


@pytest.fixture
def store(db_path: Path) -> RefusingStore:
    return RefusingStore(db_path)


@pytest.fixture
def engine(store, clock):
    workflows = [Instant, OneStep, w.Parked]
    yield from checked(open_engine(store.path, clock, store=store, workflows=workflows,
                                   activities=[echo]))  # fmt: skip


def batches_of(engine: Engine, workflow_id: str) -> list[list[tuple[int, str]]]:
    """Each committed batch's events of ``workflow_id``, as (seq, type), from now on."""
    seen: list[list[tuple[int, str]]] = []

    def listen(events: Sequence[Event]) -> None:
        mine = [(e.seq, e.type) for e in events if e.workflow_id == workflow_id]
        if mine:
            seen.append(mine)

    engine.add_commit_listener(listen)
    return seen


def test_a_workflow_that_ends_in_its_first_step_is_one_append(
    engine: Engine, store: RefusingStore
) -> None:
    batches = batches_of(engine, "instant")
    appends = engine.writer.appends
    handle = engine.start_workflow(Instant, 7, workflow_id="instant")
    assert "instant" not in store.history_reads  # a new id's actor has nothing to read
    assert handle.result(timeout=WAIT) == 7
    assert engine.writer.appends - appends == 1
    assert batches == [[(1, "WorkflowStarted"), (2, "SearchAttributesUpdated"),
                        (3, "WorkflowCompleted")]]  # fmt: skip


def test_the_first_commands_go_with_the_start(engine: Engine) -> None:
    batches = batches_of(engine, "step")
    assert engine.start_workflow(OneStep, "x", workflow_id="step").result(timeout=WAIT) == "x"
    assert [e for e, _ in batches[0]] == [1, 2, 3, 4]
    assert [t for _, t in batches[0]][2:] == ["ActivityScheduled", "ActivityStarted"]
    assert engine.store.list_wake() == []  # it ended: not owed anything


def test_a_start_that_parks_costs_one_append_and_no_wake_row(engine: Engine) -> None:
    appends = engine.writer.appends
    engine.start_workflow(w.Parked, workflow_id="parked")
    CommitWatch(engine).has("parked", "SearchAttributesUpdated")
    assert engine.writer.appends - appends == 1
    assert engine.store.list_wake() == []  # a parked run's next event rehydrates it
    engine.signal("parked", "put", 1)
    assert engine.result("parked", timeout=WAIT) == 1


def test_a_refused_append_leaves_nothing_and_the_start_can_be_retried(
    engine: Engine, store: RefusingStore
) -> None:
    store.refusals = 1
    with pytest.raises(StoreUnavailable, match="database is locked"):
        engine.start_workflow(OneStep, "y", workflow_id="retried")
    assert engine.store.read_history("retried") == []
    assert engine.summary("retried") is None
    handle = engine.start_workflow(OneStep, "y", workflow_id="retried")
    assert handle.result(timeout=WAIT) == "y"
    assert [e.type for e in engine.history("retried")].count("WorkflowStarted") == 1


def test_a_fault_in_the_first_step_keeps_the_acknowledged_start(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = workflow_actor.events_for
    faults = [RuntimeError("injected: the engine broke turning a command into events")]

    def breaks_once(*args: Any, **kwargs: Any) -> Any:
        if faults:
            raise faults.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow_actor, "events_for", breaks_once)
    handle = engine.start_workflow(OneStep, "z", workflow_id="faulted")  # durable: no error
    assert not faults
    assert handle.result(timeout=WAIT) == "z"  # the restarted actor replayed and went on
    types = [e.type for e in engine.history("faulted")]
    assert types[:2] == ["WorkflowStarted", "SearchAttributesUpdated"]
    assert types.count("WorkflowStarted") == 1 and types[-1] == "WorkflowCompleted"
