"""Signal-with-start: signal a running workflow, or start it with the signal in the same append."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aionactors import Engine
from aionactors.core.errors import InvalidInput
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore
from tests.engine import typed_workflows as t
from tests.engine.support import CommitWatch, assert_histories_replay

WAIT = 20.0


class CountingStore(SQLiteStore):
    """Counts appends, so a test can see that a start and its signal were one durable step."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.appends: list[list[str]] = []

    def append_batch(self, token, requests):  # type: ignore[no-untyped-def]
        for request in requests:
            self.appends.append([e.type for e in request.events])
        return super().append_batch(token, requests)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "sws.db")


@pytest.fixture
def engine(store: CountingStore) -> Iterator[Engine]:
    engine = Engine.open(store, workflows=t.WORKFLOWS, activities=t.ACTIVITIES, clock=ManualClock())
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


def test_starts_with_the_signal_in_one_append(engine: Engine, store: CountingStore) -> None:
    handle = engine.signal_with_start(t.Inbox, "inbox-1", "message", {"n": 1}, input=2)
    assert handle.started is True and handle.workflow_id == "inbox-1"
    first = store.appends[0]
    assert first == ["WorkflowStarted", "SearchAttributesUpdated", "SignalReceived"]
    history = engine.history("inbox-1")
    assert history[0].run_id == handle.run_id and history[2].payload == {"n": 1}
    again = engine.signal_with_start(t.Inbox, "inbox-1", "message", {"n": 2}, input=99)
    assert again.started is False and again.run_id == handle.run_id
    assert engine.result("inbox-1", timeout=WAIT) == [{"n": 1}, {"n": 2}]
    assert [e.type for e in engine.history("inbox-1")].count("WorkflowStarted") == 1


def test_a_finished_workflow_is_started_again_with_the_signal(engine: Engine) -> None:
    engine.signal_with_start("inbox", "inbox-2", "message", "a", input=1)
    assert engine.result("inbox-2", timeout=WAIT) == ["a"]
    handle = engine.signal_with_start("inbox", "inbox-2", "message", "b", input=1)
    assert handle.started is True
    assert handle.result(timeout=WAIT) == ["b"]
    assert len(engine.describe("inbox-2").runs) == 2


def test_typed_signal_with_start_and_its_refusals(engine: Engine) -> None:
    handle = engine.signal_with_start(t.TypedInbox, "ti", "line", t.Line(sku="s", qty=1), input=1)
    assert handle.result(timeout=WAIT) == [t.Line(sku="s", qty=1)]
    with pytest.raises(InvalidInput, match="field 'qty'"):
        engine.signal_with_start(t.TypedInbox, "ti-bad", "line", {"sku": "s"}, input=1)
    with pytest.raises(InvalidInput, match="input of workflow 'typed-checkout'"):
        address = t.Address("s", "c")
        engine.signal_with_start(t.TypedCheckout, "tc-bad", "address_known", address, input={})
    assert engine.summary("ti-bad") is None and engine.summary("tc-bad") is None


def test_the_same_id_in_another_namespace_is_another_workflow(engine: Engine) -> None:
    first = engine.start_workflow(t.Inbox, 5, workflow_id="shared", namespace="tenant-a")
    CommitWatch(engine).has(first.workflow_id, "SearchAttributesUpdated")
    head = engine.head_seq(first.workflow_id)
    other = engine.signal_with_start(t.Inbox, "shared", "message", 1, input=1, namespace="tenant-b")
    assert other.started and other.workflow_id != first.workflow_id
    assert other.result(timeout=WAIT) == [1]
    assert engine.head_seq(first.workflow_id) == head  # tenant-a's run saw nothing
    again = engine.signal_with_start(t.Inbox, "shared", "message", 2, input=1, namespace="tenant-a")
    assert not again.started and again.workflow_id == first.workflow_id


async def test_signal_with_start_async(engine: Engine) -> None:
    handle = await engine.signal_with_start_async(t.Inbox, "inbox-3", "message", 1, input=1)
    assert handle.started
    assert await handle.result_async(timeout=WAIT) == [1]


def test_the_signal_is_delivered_before_the_run_method_starts(engine: Engine) -> None:
    handle = engine.signal_with_start(t.FirstLook, "look-1", "note", "hi")
    assert handle.result(timeout=WAIT) == {"at_start": ["hi"], "all": ["hi"]}
    started = engine.summary("look-1")
    assert started is not None
    mark = started.search_attributes["aion.signal_with_start"]
    assert mark.data == handle.run_id


def test_a_plain_start_then_signal_keeps_its_order_on_replay(engine: Engine) -> None:
    engine.start_workflow(t.FirstLook, workflow_id="look-2")
    CommitWatch(engine).has("look-2", "SearchAttributesUpdated")
    engine.signal("look-2", "note", "later")
    # The same place in history as a signal-with-start's signal, but no mark: the run's first
    # line ran before it, live and (the fixture checks) on replay.
    assert [e.type for e in engine.history("look-2")][:3] == [
        "WorkflowStarted",
        "SearchAttributesUpdated",
        "SignalReceived",
    ]
    assert engine.result("look-2", timeout=WAIT) == {"at_start": [], "all": ["later"]}


def test_a_restarted_engine_replays_the_signal_first(tmp_path: Path) -> None:
    path = tmp_path / "first.db"
    first = t.open_typed_engine(path, ManualClock())
    try:
        first.signal_with_start(t.Inbox, "inbox-r", "message", "one", input=2)
        CommitWatch(first).has("inbox-r", "SignalReceived")
    finally:
        first.shutdown()
    second = t.open_typed_engine(path, ManualClock())
    try:
        second.signal("inbox-r", "message", "two")
        assert second.result("inbox-r", timeout=WAIT) == ["one", "two"]
        assert assert_histories_replay(second) == 1
    finally:
        second.shutdown()
