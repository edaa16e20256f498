"""Typed payloads: pydantic models and dataclasses arrive as themselves; JSON is what is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Optional

import pytest
from pydantic import BaseModel

from aionactors import Engine, WorkflowFailedError, activity, workflow
from aionactors.core.errors import InvalidInput
from aionactors.engine.clock import ManualClock
from aionactors.workflow.payloads import call_types, needs_conversion, to_json
from tests.engine import typed_workflows as t
from tests.engine.support import CommitWatch, assert_histories_replay, open_engine

ORDER = t.Order(id=7, lines=[t.Line(sku="a", qty=2), t.Line(sku="b", qty=1)], note=None)


@pytest.fixture
def typed(tmp_path: Path) -> Iterator[Engine]:
    t.SEEN_TYPES.clear()
    engine = open_engine(
        tmp_path / "typed.db", ManualClock(), workflows=t.WORKFLOWS, activities=t.ACTIVITIES
    )
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


def test_models_and_dataclasses_arrive_typed_and_are_stored_as_json(typed: Engine) -> None:
    handle = typed.start_workflow(t.TypedCheckout, ORDER, workflow_id="typed-1")
    watch = CommitWatch(typed)
    watch.has("typed-1", "ActivityCompleted")
    count = handle.update("add_lines", [t.Line(sku="c", qty=4)], t.Line(sku="n", qty=1))
    assert count == 1
    assert handle.query("lines_for", "c") == [{"sku": "c", "qty": 4}]
    handle.signal("address_known", t.Address("main st", "Springfield"))
    typed_receipt = handle.result(timeout=20)
    assert typed_receipt == t.Receipt(order_id=7, total_qty=7, size=t.Size.SMALL)
    assert typed.result("typed-1", timeout=5) == {"order_id": 7, "total_qty": 7, "size": "small"}
    assert t.SEEN_TYPES[:3] == ["run:Order", "price:Order:Line", "activity-result:Receipt:Size"]
    assert "signal:Address" in t.SEEN_TYPES
    assert "update:Line:Line" in t.SEEN_TYPES
    assert "ship:Shipment:Address" in t.SEEN_TYPES and "shipped:Shipment:MAIN ST" in t.SEEN_TYPES
    history = {e.type: e for e in typed.history("typed-1")}
    assert history["WorkflowStarted"].input == {
        "id": 7,
        "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}],
        "note": None,
        "due": None,
    }
    assert history["SignalReceived"].payload == {"street": "main st", "city": "Springfield"}
    assert history["UpdateAccepted"].args == [[{"sku": "c", "qty": 4}], {"sku": "n", "qty": 1}]
    assert history["ActivityCompleted"].result == {
        "order_id": 7,
        "to": {"street": "MAIN ST", "city": "Springfield"},
    }


def test_replay_converts_the_recorded_json_again(typed: Engine, tmp_path: Path) -> None:
    typed.start_workflow(t.TypedCheckout, ORDER, workflow_id="typed-2")
    CommitWatch(typed).has("typed-2", "ActivityCompleted")
    typed.residency.evict("typed-2")  # the next message rehydrates it by replay
    assert not typed.residency.is_resident("typed-2")
    t.SEEN_TYPES.clear()
    typed.signal("typed-2", "address_known", {"street": "x", "city": "y"})  # JSON is fine too
    assert typed.result("typed-2", timeout=20)["total_qty"] == 3
    # The rehydrated actor replayed from JSON and saw the same types as the live run did.
    assert t.SEEN_TYPES[:2] == ["run:Order", "activity-result:Receipt:Size"], t.SEEN_TYPES
    assert "signal:Address" in t.SEEN_TYPES


def test_plain_and_dict_payloads_are_untouched(typed: Engine) -> None:
    value = {"nested": [1, 2, {"a": None}], "t": "x"}
    handle = typed.start_workflow(t.PlainEcho, value, workflow_id="plain")
    assert handle.result(timeout=20) == value
    assert t.SEEN_TYPES == ["plain-run:dict", "echo:dict", "plain-result:dict"]


def test_a_start_that_does_not_fit_the_run_method_is_refused_and_records_nothing(
    typed: Engine,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        typed.start_workflow(
            "typed-checkout", {"id": 1, "lines": [{"sku": "a", "qty": 0}]}, workflow_id="bad"
        )
    assert "field 'lines.0.qty'" in refused.value.message
    assert "greater than or equal to 1" in refused.value.message
    assert typed.summary("bad") is None and typed.history("bad") == []


def test_a_signal_that_does_not_fit_its_handler_is_refused_before_it_is_recorded(
    typed: Engine,
) -> None:
    typed.start_workflow(t.TypedCheckout, ORDER, workflow_id="typed-3")
    watch = CommitWatch(typed)
    watch.has("typed-3", "ActivityCompleted")
    head = typed.head_seq("typed-3")
    with pytest.raises(InvalidInput) as refused:
        typed.signal("typed-3", "address_known", {"street": "only"})
    assert "field 'city'" in refused.value.message
    assert typed.head_seq("typed-3") == head


def test_bad_update_arguments_and_query_arguments_are_invalid_input(typed: Engine) -> None:
    typed.start_workflow(t.TypedCheckout, ORDER, workflow_id="typed-4")
    CommitWatch(typed).has("typed-4", "ActivityCompleted")
    head = typed.head_seq("typed-4")
    with pytest.raises(InvalidInput, match=r"field '0.qty'"):
        typed.update("typed-4", "add_lines", [{"sku": "c", "qty": "many"}])
    with pytest.raises(InvalidInput, match="add_lines"):
        typed.update("typed-4", "add_lines")  # a missing argument
    with pytest.raises(InvalidInput, match="argument of query 'has_line' is invalid"):
        typed.query("typed-4", "has_line", {"sku": "a"})
    assert typed.query("typed-4", "has_line", t.Line(sku="a", qty=1)) is False
    assert typed.head_seq("typed-4") == head


@activity.defn(name="strict")
def strict(line: t.Line) -> int:
    return line.qty


@workflow.defn(name="sends-bad-activity-input")
class SendsBadActivityInput:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity("strict", {"sku": "a"})


def test_activity_input_that_does_not_fit_fails_the_activity_for_good(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "a.db", workflows=[SendsBadActivityInput], activities=[strict])
    try:
        engine.start_workflow(SendsBadActivityInput, workflow_id="bad-act")
        with pytest.raises(WorkflowFailedError) as failed:
            engine.result("bad-act", timeout=20)
        assert "input of activity 'strict' is invalid: field 'qty': Field required" in str(
            failed.value
        )
        attempts = [e for e in engine.history("bad-act") if e.type == "ActivityFailed"]
        assert len(attempts) == 1 and attempts[0].error.type == "PayloadValidationError"
    finally:
        engine.shutdown()


def test_get_handle_types_the_result_from_the_registered_run_method(typed: Engine) -> None:
    typed.start_workflow(t.TypedInbox, 1, workflow_id="ti")
    handle = typed.get_handle("ti")
    handle.signal("line", t.Line(sku="z", qty=3))
    assert handle.result(timeout=20) == [t.Line(sku="z", qty=3)]
    raw = typed.get_handle("ti", result_type=list[dict])
    assert raw.result(timeout=5) == [{"sku": "z", "qty": 3}]


# ---- the converter on its own ----------------------------------------------------------


class Inner(BaseModel):
    at: datetime


@dataclasses.dataclass
class Outer:
    inner: Inner
    tags: list[str]


def conversions(a: Optional[Outer], b: list[Inner], c: dict, d, e: int) -> dict[str, Outer]:  # noqa: UP045
    raise NotImplementedError


def test_which_annotations_convert() -> None:
    assert needs_conversion(Optional[Outer]) and needs_conversion(list[Inner])  # noqa: UP045
    assert needs_conversion(dict[str, Outer]) and needs_conversion(datetime)
    for plain in (dict, int, str, list[int], dict[str, int], None):
        assert not needs_conversion(plain)
    types = call_types(conversions)
    at = "2026-01-02T03:04:05Z"
    a, b, c, d, e = types.decode(
        [{"inner": {"at": at}, "tags": ["x"]}, [{"at": at}], {"k": 1}, [1], "5"]
    )
    assert a == Outer(Inner(at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)), ["x"])
    assert b == [Inner(at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))]
    assert (c, d, e) == ({"k": 1}, [1], "5")  # plain annotations: exactly as given
    assert types.decode([None, [], {}, None, 0])[0] is None
    assert types.decode_result({"k": {"inner": {"at": at}, "tags": []}})["k"].tags == []


def test_to_json_dumps_models_and_dataclasses_and_keeps_plain_values() -> None:
    plain = {"a": (1, 2), "b": [None]}
    assert to_json(plain) is plain
    value = {"o": Outer(Inner(at=datetime(2026, 1, 1, tzinfo=UTC)), ["t"]), "n": 1}
    assert to_json(value) == {"o": {"inner": {"at": "2026-01-01T00:00:00Z"}, "tags": ["t"]}, "n": 1}
    assert to_json([t.Size.LARGE]) == ["large"]


@workflow.defn(name="starts-a-bad-child")
class StartsABadChild:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_child_workflow(t.TypedCheckout, {"id": "seven", "lines": []})
        except workflow.ChildWorkflowFailure as failure:
            return failure.error.message
        return "the child started"


def test_a_child_whose_input_does_not_fit_fails_clearly_in_the_parent(tmp_path: Path) -> None:
    engine = open_engine(
        tmp_path / "c.db", workflows=[StartsABadChild, *t.WORKFLOWS], activities=t.ACTIVITIES
    )
    try:
        engine.start_workflow(StartsABadChild, workflow_id="parent")
        message = engine.result("parent", timeout=20)
        assert "input of workflow 'typed-checkout' is invalid: field 'id'" in message
        assert assert_histories_replay(engine) == 1
    finally:
        engine.shutdown()
