"""Updates: validated first (refusals record nothing), durable before the handler runs, their
outcome recorded before it is returned, replayed deterministically after a restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from aionactors import (
    Engine,
    UnknownUpdate,
    UpdateFailed,
    UpdateRejected,
    UpdateTimeout,
)
from aionactors.core.errors import InvalidInput, NotRunning
from aionactors.engine.clock import ManualClock
from tests.engine import typed_workflows as t
from tests.engine.support import CommitWatch, assert_histories_replay, open_engine

WAIT = 20.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(tmp_path: Path, clock: ManualClock) -> Iterator[Engine]:
    engine = t.open_typed_engine(tmp_path / "cart.db", clock)
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


def types(engine: Engine, workflow_id: str) -> list[str]:
    return [e.type for e in engine.history(workflow_id)]


def started_cart(engine: Engine, workflow_id: str = "cart-1") -> str:
    engine.start_workflow(t.Cart, workflow_id=workflow_id)
    CommitWatch(engine).has(workflow_id, "SearchAttributesUpdated")
    return workflow_id


def test_sync_update_is_accepted_then_completed_and_returns_the_result(engine: Engine) -> None:
    cart = started_cart(engine)
    assert engine.update(cart, "add", "apple") == 1
    assert engine.update(cart, "add", "pear", timeout=WAIT) == 2
    history = engine.history(cart)
    accepted = [e for e in history if e.type == "UpdateAccepted"]
    completed = [e for e in history if e.type == "UpdateCompleted"]
    assert [(e.name, e.args) for e in accepted] == [("add", ["apple"]), ("add", ["pear"])]
    assert [e.result for e in completed] == [1, 2]
    assert [a.update_id for a in accepted] == [c.update_id for c in completed]
    assert all(a.seq < c.seq for a, c in zip(accepted, completed, strict=True))
    assert engine.query(cart, "count") == 2


def test_rejected_unknown_and_mistyped_updates_record_nothing(engine: Engine) -> None:
    cart = started_cart(engine)
    engine.update(cart, "add", "apple")
    head = engine.head_seq(cart)
    with pytest.raises(UpdateRejected, match="'apple' is already in the cart") as rejected:
        engine.update(cart, "add", "apple")
    assert rejected.value.code == "invalid_input" and rejected.value.error_type == "UpdateRejected"
    with pytest.raises(UpdateRejected, match="must not be empty"):
        engine.update(cart, "add", "")
    with pytest.raises(UnknownUpdate) as unknown:
        engine.update(cart, "nope")
    assert unknown.value.code == "invalid_input" and unknown.value.error_type == "UnknownUpdate"
    with pytest.raises(InvalidInput, match="too many positional arguments"):
        engine.update(cart, "add", "a", "b")
    with pytest.raises(InvalidInput, match="must be a JSON value"):
        engine.update(cart, "add", {1, 2})
    assert engine.head_seq(cart) == head


def test_a_failing_handler_fails_the_update_not_the_workflow(engine: Engine) -> None:
    cart = started_cart(engine)
    with pytest.raises(UpdateFailed, match="the handler failed on purpose") as failed:
        engine.update(cart, "explode")
    assert failed.value.failure_type == "RuntimeError"
    completed = [e for e in engine.history(cart) if e.type == "UpdateCompleted"][-1]
    assert completed.error is not None and completed.error.type == "RuntimeError"
    assert engine.update(cart, "add", "still-alive") == 1


def test_continue_as_new_inside_a_handler_fails_the_update_only(engine: Engine) -> None:
    cart = started_cart(engine)
    with pytest.raises(UpdateFailed, match="continue as new"):
        engine.update(cart, "start_over")
    assert engine.update(cart, "add", "after") == 1
    assert engine.describe(cart).summary.status == "Running"


def test_async_update_awaits_an_activity_and_a_timer(engine: Engine, clock: ManualClock) -> None:
    cart = started_cart(engine)
    answer: list[object] = []
    caller = threading.Thread(target=lambda: answer.append(engine.update(cart, "reserve", "x")))
    caller.start()
    CommitWatch(engine).has(cart, "TimerStarted")
    assert answer == []  # accepted, still waiting for its handler
    clock.advance(timedelta(minutes=1))
    caller.join(WAIT)
    assert answer == ["reserved:x"]
    kinds = types(engine, cart)
    accepted = kinds.index("UpdateAccepted")
    assert kinds[accepted:] == [
        "UpdateAccepted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityCompleted",
        "TimerStarted",
        "TimerFired",
        "UpdateCompleted",
    ]


def test_update_timeout_leaves_the_update_accepted_and_it_still_completes(
    engine: Engine, clock: ManualClock
) -> None:
    cart = started_cart(engine)
    with pytest.raises(UpdateTimeout):
        engine.update(cart, "reserve", "y", timeout=0.05)
    CommitWatch(engine).has(cart, "TimerStarted")
    clock.advance(timedelta(minutes=1))
    CommitWatch(engine).has(cart, "UpdateCompleted")
    assert engine.query(cart, "count") == 1


def test_update_that_ends_the_run_answers_before_the_completion(engine: Engine) -> None:
    cart = started_cart(engine)
    engine.update(cart, "add", "apple")
    assert engine.update(cart, "close") == 1
    assert engine.result(cart, timeout=WAIT) == ["apple"]
    assert types(engine, cart)[-2:] == ["UpdateCompleted", "WorkflowCompleted"]
    with pytest.raises(NotRunning):
        engine.update(cart, "add", "late")


def test_run_id_must_be_the_latest_run(engine: Engine) -> None:
    handle = engine.start_workflow(t.Cart, workflow_id="cart-run")
    with pytest.raises(NotRunning, match="is not its latest run"):
        engine.update("cart-run", "add", "a", run_id="some-other-run")
    assert engine.update("cart-run", "add", "a", run_id=handle.run_id) == 1


def test_updates_replay_after_a_restart_of_the_store(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "restart.db"
    first = t.open_typed_engine(path, clock)
    try:
        first.start_workflow(t.Cart, workflow_id="durable")
        assert first.update("durable", "add", "apple") == 1
        first.signal("durable", "add_silently", "kiwi")
        assert first.update("durable", "add", "pear") == 3
        with pytest.raises(UpdateFailed):
            first.update("durable", "explode")
        before = [e.model_dump() for e in first.history("durable")]
    finally:
        first.shutdown()
    second = t.open_typed_engine(path, clock)
    try:
        # The reopened engine replayed every recorded update at its place in history.
        assert second.query("durable", "count") == 3
        assert [e.model_dump() for e in second.history("durable")] == before
        with pytest.raises(UpdateRejected):
            second.update("durable", "add", "pear")  # the replayed state says it is there
        assert second.update("durable", "close") == 3
        assert second.result("durable", timeout=WAIT) == ["apple", "kiwi", "pear"]
        assert assert_histories_replay(second) == 1
    finally:
        second.shutdown()


def test_an_async_update_in_flight_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "inflight.db"
    first = t.open_typed_engine(path, clock)
    try:
        first.start_workflow(t.Cart, workflow_id="inflight")
        with pytest.raises(UpdateTimeout):
            first.update("inflight", "reserve", "z", timeout=0.05)
        CommitWatch(first).has("inflight", "TimerStarted")
    finally:
        first.shutdown()
    second = t.open_typed_engine(path, clock)
    try:
        clock.advance(timedelta(minutes=1))
        CommitWatch(second).has("inflight", "UpdateCompleted")
        completed = [e for e in second.history("inflight") if e.type == "UpdateCompleted"]
        assert completed[0].result == "reserved:z"
        assert second.query("inflight", "count") == 1
    finally:
        second.shutdown()


async def test_update_async_and_handle_twins(engine: Engine) -> None:
    handle = await engine.start_workflow_async(t.Cart, workflow_id="cart-async")
    assert await engine.update_async("cart-async", "add", "a") == 1
    assert await handle.update_async("add", "b") == 2
    assert await handle.query_async("count") == 2
    await handle.signal_async("add_silently", "c")
    description = await handle.describe_async()
    assert description.summary.workflow_id == "cart-async"
    assert await asyncio.wait_for(handle.update_async("close"), WAIT) == 3
    assert await handle.result_async(timeout=WAIT) == ["a", "b", "c"]


def test_get_handle_cancels_and_then_refuses_updates(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "x.db", workflows=[t.Cart])
    try:
        handle = engine.get_handle(engine.start_workflow(t.Cart).workflow_id)
        handle.cancel("done")
        with pytest.raises(NotRunning):
            handle.update("add", "x")
    finally:
        engine.shutdown()
