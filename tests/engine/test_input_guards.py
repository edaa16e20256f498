"""Values the history cannot hold are refused where they enter, naming where they are.

NaN and Infinity are not JSON: recorded, they would come back as null and a replay
would see None where the live run saw NaN. An empty workflow id is an error, never
replaced by a random one. Awaiting asyncio in workflow code fails the run clearly.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from aionactors import Engine, WorkflowFailedError, activity, workflow
from aionactors.core.errors import InvalidInput
from tests.engine import workflows as w
from tests.engine.support import CommitWatch, open_engine

NAN, INF = float("nan"), float("inf")


@activity.defn
def echo(value: Any) -> Any:
    return value


@activity.defn
def not_a_number(_: Any = None) -> float:
    return math.nan


@workflow.defn(name="guards.sends")
class SendsBadValues:
    """Does whatever its input asks with a non-finite value, and reports what it saw."""

    @workflow.run
    async def run(self, what: str) -> Any:
        try:
            if what == "activity_input":
                await workflow.execute_activity(echo, {"x": [1, NAN]})
            elif what == "child_input":
                await workflow.execute_child_workflow(w.Parked, INF)
            elif what == "signal_payload":
                workflow.signal_external("anyone", "put", {"v": -INF})
            elif what == "search_attribute":
                workflow.upsert_search_attributes({"score": NAN})
            elif what == "result":
                return {"r": NAN}
        except TypeError as exc:
            return f"refused: {exc}"
        return "not refused"


@workflow.defn(name="guards.activity_result")
class ActivityReturnsNaN:
    @workflow.run
    async def run(self) -> Any:
        return await workflow.execute_activity(not_a_number)


@workflow.defn(name="guards.asyncio_sleep")
class AwaitsAsyncioSleep:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(1)


@workflow.defn(name="guards.asyncio_future")
class AwaitsBareFuture:
    @workflow.run
    async def run(self) -> None:
        await asyncio.Future()


GUARD_WORKFLOWS = [SendsBadValues, ActivityReturnsNaN, AwaitsAsyncioSleep, AwaitsBareFuture]


@pytest.fixture
def engine(db_path, clock):
    engine = open_engine(
        db_path,
        clock,
        workflows=[*GUARD_WORKFLOWS, w.Parked],
        activities=[echo, not_a_number],
    )
    yield engine
    engine.shutdown()


@pytest.mark.parametrize(
    ("value", "where"),
    [(NAN, "workflow input must"), ({"a": [1, INF]}, "(at a[1])"), ([{"b": -INF}], "(at [0].b)")],
)
def test_start_refuses_non_finite_input_and_records_nothing(engine: Engine, value, where) -> None:
    with pytest.raises(InvalidInput, match="NaN and Infinity") as refused:
        engine.start_workflow(w.Parked, value, workflow_id="nan")
    assert where in refused.value.message
    assert engine.summary("nan") is None and engine.history("nan") == []


def test_signal_refuses_non_finite_payload_and_records_nothing(engine: Engine) -> None:
    engine.start_workflow(w.Parked, workflow_id="parked")
    head = engine.head_seq("parked")
    with pytest.raises(InvalidInput, match=r"payload of signal 'put' .*\(at v\).*NaN"):
        engine.signal("parked", "put", {"v": NAN})
    assert engine.head_seq("parked") == head
    engine.signal("parked", "put", 1.5)
    assert engine.result("parked", timeout=20) == 1.5


def test_start_refuses_non_finite_search_attributes(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="search attribute value nan"):
        engine.start_workflow(w.Parked, workflow_id="sa", search_attributes={"score": NAN})
    assert engine.summary("sa") is None


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("activity_input", "input of activity 'echo' must be a JSON value (at x[1])"),
        ("child_input", "input of child workflow 'parked' must be a JSON value"),
        ("signal_payload", "payload of signal 'put' must be a JSON value (at v)"),
        ("search_attribute", "search attribute value nan is not valid"),
    ],
)
def test_workflow_code_gets_a_type_error_and_nothing_is_recorded(
    engine: Engine, what: str, message: str
) -> None:
    engine.start_workflow(SendsBadValues, what, workflow_id=what)
    result = engine.result(what, timeout=20)
    assert result.startswith("refused: ") and message in result, result
    types = [e.type for e in engine.history(what)]
    assert types == ["WorkflowStarted", "SearchAttributesUpdated", "WorkflowCompleted"]


def test_a_non_finite_workflow_result_fails_the_run(engine: Engine) -> None:
    engine.start_workflow(SendsBadValues, "result", workflow_id="result")
    with pytest.raises(WorkflowFailedError, match=r"workflow result .*\(at r\).*NaN"):
        engine.result("result", timeout=20)


def test_a_non_finite_activity_result_fails_the_attempt_for_good(engine: Engine) -> None:
    engine.start_workflow(ActivityReturnsNaN, workflow_id="act")
    with pytest.raises(WorkflowFailedError, match="not JSON"):
        engine.result("act", timeout=20)
    failed = [e for e in engine.history("act") if e.type == "ActivityFailed"]
    assert len(failed) == 1 and failed[0].error.type == "ResultNotSerializable"


@pytest.mark.parametrize("workflow_id", ["", "x" * 256])
def test_a_workflow_id_outside_1_to_255_characters_is_invalid_input(
    engine: Engine, workflow_id: str
) -> None:
    with pytest.raises(InvalidInput, match="workflow_id must be 1 to 255 characters"):
        engine.start_workflow(w.Parked, workflow_id=workflow_id)
    assert engine.count_workflows() == 0


@pytest.mark.parametrize("kind", [AwaitsAsyncioSleep, AwaitsBareFuture])
def test_awaiting_asyncio_fails_the_run_saying_what_to_use(
    engine: Engine, watch: CommitWatch, kind: type
) -> None:
    engine.start_workflow(kind, workflow_id="foreign")
    with pytest.raises(WorkflowFailedError) as failed:
        engine.result("foreign", timeout=20)
    assert failed.value.failure_type == "ForeignAwaitError"
    message = failed.value.failure_message
    assert "no running event loop" not in message
    assert "workflow.sleep" in message and "workflow.wait_condition" in message
    assert "activities" in message


async def test_asyncio_in_workflow_code_fails_even_when_replayed_inside_a_running_loop(
    engine: Engine,
) -> None:
    # Replaying from async code (a test, a tool) must not hand the workflow the caller's loop.
    from aionactors.workflow.replayer import replay

    engine.start_workflow(AwaitsAsyncioSleep, workflow_id="in-loop")
    with pytest.raises(WorkflowFailedError):
        await engine.result_async("in-loop", timeout=20)
    history = engine.history("in-loop")
    driver = replay(engine.registry.workflow("guards.asyncio_sleep"), history)
    assert driver.terminal is not None and driver.terminal.error.type == "ForeignAwaitError"
    asyncio.get_running_loop()  # the caller's loop is still the running one


@pytest.fixture
def watch(engine: Engine) -> CommitWatch:
    return CommitWatch(engine)
