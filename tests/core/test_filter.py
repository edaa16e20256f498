"""List filters, search predicates, list order and page tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from aionactors.core.errors import InvalidInput
from aionactors.core.search import (
    BoolValue,
    Contains,
    DatetimeValue,
    Equals,
    FloatValue,
    GreaterThan,
    IntValue,
    KeywordListValue,
    LessThan,
    Predicate,
    StringValue,
)
from aionactors.core.status import WorkflowStatus
from aionactors.core.timestamps import to_micros
from aionactors.core.visibility import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    WorkflowFilter,
    WorkflowPage,
    WorkflowSummary,
    after_cursor,
    decode_page_token,
    page_token_for,
    sort_key,
)

from .factories import at

S = WorkflowStatus

RUNNING = WorkflowSummary(
    workflow_id="wf-run",
    run_id="r1",
    namespace="tenant-a",
    workflow_type="order",
    status=S.RUNNING,
    started_at=at(100),
    parent="parent-1",
    search_attributes={
        "customer": StringValue(data="acme"),
        "amount": IntValue(data=10),
        "score": FloatValue(data=0.5),
        "vip": BoolValue(data=True),
        "due": DatetimeValue(data=at(1000)),
        "tags": KeywordListValue(data=("red", "blue")),
    },
)
CLOSED = WorkflowSummary(
    workflow_id="wf-done",
    run_id="r2",
    namespace="tenant-b",
    workflow_type="invoice",
    status=S.FAILED,
    started_at=at(200),
    ended_at=at(300),
    failure_reason="boom",
)
PAUSED = RUNNING.model_copy(update={"workflow_id": "wf-paused", "status": S.PAUSED})
ALL = [RUNNING, CLOSED, PAUSED]


def _matching(flt: WorkflowFilter) -> list[str]:
    return [s.workflow_id for s in ALL if flt.matches(s)]


# --- WorkflowFilter -------------------------------------------------------------------


def test_default_filter_matches_everything():
    flt = WorkflowFilter()
    assert _matching(flt) == ["wf-run", "wf-done", "wf-paused"]
    assert flt.limit == DEFAULT_PAGE_SIZE
    assert flt.page_token is None


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("namespace", "tenant-a", ["wf-run", "wf-paused"]),
        ("namespace", "tenant-b", ["wf-done"]),
        ("namespace", "default", []),
        ("workflow_type", "invoice", ["wf-done"]),
        ("workflow_type", "nothing", []),
        ("status", S.RUNNING, ["wf-run"]),
        ("status", S.PAUSED, ["wf-paused"]),
        ("status", S.FAILED, ["wf-done"]),
        ("status", S.COMPLETED, []),
        ("status", "Failed", ["wf-done"]),
        ("parent", "parent-1", ["wf-run", "wf-paused"]),
        ("parent", "other", []),
    ],
)
def test_equality_fields(field, value, expected):
    assert _matching(WorkflowFilter(**{field: value})) == expected


@pytest.mark.parametrize(
    ("field", "bound", "expected"),
    [
        ("started_after", at(99), ["wf-run", "wf-done", "wf-paused"]),
        ("started_after", at(100), ["wf-run", "wf-done", "wf-paused"]),  # inclusive
        ("started_after", at(100.000001), ["wf-done"]),
        ("started_after", at(200), ["wf-done"]),
        ("started_after", at(201), []),
        ("started_before", at(99), []),
        ("started_before", at(100), ["wf-run", "wf-paused"]),  # inclusive
        ("started_before", at(199), ["wf-run", "wf-paused"]),
        ("started_before", at(200), ["wf-run", "wf-done", "wf-paused"]),
        ("closed_after", at(0), ["wf-done"]),
        ("closed_after", at(300), ["wf-done"]),  # inclusive
        ("closed_after", at(300.000001), []),
        ("closed_before", at(10_000), ["wf-done"]),
        ("closed_before", at(300), ["wf-done"]),  # inclusive
        ("closed_before", at(299), []),
    ],
)
def test_time_bounds(field, bound, expected):
    assert _matching(WorkflowFilter(**{field: bound})) == expected


@pytest.mark.parametrize("field", ["closed_after", "closed_before"])
@pytest.mark.parametrize(
    "bound", [datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)]
)
def test_closed_bounds_never_match_open_rows(field, bound):
    flt = WorkflowFilter(**{field: bound})
    assert not flt.matches(RUNNING)
    assert not flt.matches(PAUSED)


def test_time_bounds_compare_instants_across_offsets():
    plus_two = timezone(timedelta(hours=2))
    flt = WorkflowFilter(started_after=at(100).astimezone(plus_two))
    assert flt.started_after.utcoffset() == timedelta(0)
    assert flt.matches(RUNNING)


def test_naive_time_bounds_are_rejected():
    with pytest.raises(ValidationError):
        WorkflowFilter(started_after=datetime(2026, 1, 1))


def test_fields_combine_with_and():
    flt = WorkflowFilter(namespace="tenant-a", status=S.RUNNING, started_before=at(100))
    assert _matching(flt) == ["wf-run"]
    flt = WorkflowFilter(namespace="tenant-a", workflow_type="invoice")
    assert _matching(flt) == []
    flt = WorkflowFilter(
        namespace="tenant-b",
        workflow_type="invoice",
        status=S.FAILED,
        started_after=at(200),
        started_before=at(200),
        closed_after=at(300),
        closed_before=at(300),
    )
    assert _matching(flt) == ["wf-done"]


def test_matches_is_columns_and_attributes():
    flt = WorkflowFilter(
        namespace="tenant-a", search_attributes=(Equals(name="amount", value=IntValue(data=10)),)
    )
    assert flt.matches_columns(RUNNING)
    assert flt.matches_attributes(RUNNING)
    assert flt.matches(RUNNING)
    assert flt.matches_columns(PAUSED) and flt.matches_attributes(PAUSED)
    assert not flt.matches_columns(CLOSED)
    assert not flt.matches_attributes(CLOSED)
    assert _matching(flt) == ["wf-run", "wf-paused"]


def test_several_predicates_combine_with_and():
    both = WorkflowFilter(
        search_attributes=(
            Contains(name="tags", keyword="red"),
            GreaterThan(name="amount", value=IntValue(data=5)),
        )
    )
    assert _matching(both) == ["wf-run", "wf-paused"]
    one_fails = WorkflowFilter(
        search_attributes=(
            Contains(name="tags", keyword="red"),
            GreaterThan(name="amount", value=IntValue(data=50)),
        )
    )
    assert _matching(one_fails) == []


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_limit_bounds(limit):
    with pytest.raises(ValidationError):
        WorkflowFilter(limit=limit)


def test_limit_accepts_bounds():
    assert WorkflowFilter(limit=1).limit == 1
    assert WorkflowFilter(limit=MAX_PAGE_SIZE).limit == 1000


def test_filter_rejects_unknown_fields_and_bad_status():
    with pytest.raises(ValidationError):
        WorkflowFilter(run_id="r1")
    with pytest.raises(ValidationError):
        WorkflowFilter(status="Sleeping")


def test_filter_from_wire_json():
    body = {
        "namespace": "tenant-a",
        "status": "Running",
        "started_after": "2026-11-22T13:00:00Z",
        "search_attributes": [
            {"op": "equals", "name": "customer", "value": {"type": "String", "data": "acme"}},
            {"op": "greater_than", "name": "amount", "value": {"type": "Int", "data": 9}},
            {"op": "less_than", "name": "score", "value": {"type": "Float", "data": 0.75}},
            {"op": "contains", "name": "tags", "keyword": "blue"},
        ],
        "limit": 5,
    }
    flt = WorkflowFilter.model_validate_json(json.dumps(body))
    assert [type(p) for p in flt.search_attributes] == [Equals, GreaterThan, LessThan, Contains]
    assert _matching(flt) == ["wf-run"]
    assert WorkflowFilter.model_validate_json(flt.model_dump_json()) == flt


def test_unknown_predicate_op_is_rejected():
    with pytest.raises(ValidationError):
        WorkflowFilter.model_validate({"search_attributes": [{"op": "like", "name": "x"}]})


# --- predicates -----------------------------------------------------------------------

ATTRS = RUNNING.search_attributes


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        (StringValue(data="acme"), True),
        (StringValue(data="ACME"), False),
        (StringValue(data="10"), False),
    ],
)
def test_equals_string(value, matches):
    assert Equals(name="customer", value=value).matches(ATTRS) is matches


@pytest.mark.parametrize(
    ("name", "value", "matches"),
    [
        ("amount", IntValue(data=10), True),
        ("amount", IntValue(data=11), False),
        ("amount", FloatValue(data=10.0), False),  # same number, other type
        ("amount", StringValue(data="10"), False),
        ("score", FloatValue(data=0.5), True),
        ("vip", BoolValue(data=True), True),
        ("vip", BoolValue(data=False), False),
        ("vip", IntValue(data=1), False),  # True == 1 in Python, never here
        ("due", DatetimeValue(data=at(1000)), True),
        ("due", DatetimeValue(data=at(1000).astimezone(timezone(timedelta(hours=5)))), True),
        ("due", StringValue(data="2026-11-22T13:16:40.123456Z"), False),
        ("tags", KeywordListValue(data=("red", "blue")), True),
        ("tags", KeywordListValue(data=("blue", "red")), False),
        ("tags", KeywordListValue(data=("red",)), False),
        ("missing", StringValue(data="acme"), False),
    ],
)
def test_equals(name, value, matches):
    assert Equals(name=name, value=value).matches(ATTRS) is matches


@pytest.mark.parametrize(
    ("name", "bound", "greater", "less"),
    [
        ("amount", IntValue(data=9), True, False),
        ("amount", IntValue(data=10), False, False),  # strict both ways
        ("amount", IntValue(data=11), False, True),
        ("score", FloatValue(data=0.25), True, False),
        ("score", FloatValue(data=0.5), False, False),
        ("score", FloatValue(data=0.75), False, True),
        ("due", DatetimeValue(data=at(999)), True, False),
        ("due", DatetimeValue(data=at(1000)), False, False),
        ("due", DatetimeValue(data=at(1001)), False, True),
        # type mismatches never match, whatever the numbers say
        ("amount", FloatValue(data=1.0), False, False),
        ("amount", FloatValue(data=100.0), False, False),
        ("score", IntValue(data=0), False, False),
        ("score", IntValue(data=1), False, False),
        ("due", IntValue(data=0), False, False),
        ("customer", IntValue(data=0), False, False),
        ("vip", IntValue(data=0), False, False),
        ("tags", IntValue(data=0), False, False),
        ("missing", IntValue(data=0), False, False),
    ],
)
def test_greater_than_and_less_than(name, bound, greater, less):
    assert GreaterThan(name=name, value=bound).matches(ATTRS) is greater
    assert LessThan(name=name, value=bound).matches(ATTRS) is less


@pytest.mark.parametrize("cls", [GreaterThan, LessThan])
@pytest.mark.parametrize(
    "bound",
    [
        StringValue(data="a"),
        BoolValue(data=True),
        KeywordListValue(data=("a",)),
        {"type": "String", "data": "a"},
        {"type": "Bool", "data": True},
    ],
)
def test_order_predicates_only_take_ordered_types(cls, bound):
    with pytest.raises(ValidationError):
        cls(name="x", value=bound)


@pytest.mark.parametrize(
    ("name", "keyword", "matches"),
    [
        ("tags", "red", True),
        ("tags", "blue", True),
        ("tags", "green", False),
        ("tags", "re", False),
        ("customer", "acme", False),  # a String is not a KeywordList
        ("customer", "a", False),
        ("amount", "10", False),
        ("missing", "red", False),
    ],
)
def test_contains(name, keyword, matches):
    assert Contains(name=name, keyword=keyword).matches(ATTRS) is matches


def test_contains_empty_keyword_list():
    attrs = {"tags": KeywordListValue(data=())}
    assert not Contains(name="tags", keyword="").matches(attrs)


def test_predicates_on_empty_attributes_never_match():
    for predicate in (
        Equals(name="a", value=IntValue(data=1)),
        GreaterThan(name="a", value=IntValue(data=1)),
        LessThan(name="a", value=IntValue(data=1)),
        Contains(name="a", keyword="k"),
    ):
        assert not predicate.matches({})


def test_predicate_wire_forms():
    adapter = TypeAdapter(Predicate)
    for predicate in (
        Equals(name="a", value=KeywordListValue(data=("x",))),
        GreaterThan(name="a", value=DatetimeValue(data=at(0))),
        LessThan(name="a", value=FloatValue(data=1.5)),
        Contains(name="a", keyword="k"),
    ):
        text = adapter.dump_json(predicate)
        assert adapter.validate_json(text) == predicate
    assert json.loads(adapter.dump_json(Contains(name="a", keyword="k"))) == {
        "op": "contains",
        "name": "a",
        "keyword": "k",
    }
    with pytest.raises(ValidationError):
        adapter.validate_python({"op": "contains", "name": "a", "keyword": "k", "x": 1})


# --- order and paging -----------------------------------------------------------------


def _summary(workflow_id: str, started: float) -> WorkflowSummary:
    return WorkflowSummary(
        workflow_id=workflow_id, run_id="r", workflow_type="t", started_at=at(started)
    )


def test_sort_key_newest_first_then_workflow_id():
    rows = [
        _summary("b", 1),
        _summary("a", 1),
        _summary("z", 3),
        _summary("c", 2),
        _summary("a", 2.000001),
    ]
    ordered = sorted(rows, key=sort_key)
    assert [(r.workflow_id, r.started_at) for r in ordered] == [
        ("z", at(3)),
        ("a", at(2.000001)),
        ("c", at(2)),
        ("a", at(1)),
        ("b", at(1)),
    ]
    assert sort_key(rows[0]) == (-to_micros(at(1)), "b")


@pytest.mark.parametrize(
    "summary",
    [
        _summary("wf-1", 0),
        _summary("ünïcödé/with?odd&chars=", 12.5),
        _summary("x" * 255, -(10**6)),
        WorkflowSummary(
            workflow_id="epoch",
            run_id="r",
            workflow_type="t",
            started_at=datetime(1970, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_page_token_round_trip(summary):
    token = page_token_for(summary)
    assert isinstance(token, str)
    assert not set(token) & set("+/ ")  # URL-safe
    started_at, workflow_id = decode_page_token(token)
    assert started_at == summary.started_at
    assert started_at.utcoffset() == timedelta(0)
    assert workflow_id == summary.workflow_id
    assert page_token_for(summary) == token  # deterministic


def _token(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "!!!!",
        "bm90IGpzb24=",  # "not json"
        "\u00e9\u00e9",
        _token([1, 2, 3]),
        _token([1]),
        _token(["1", "x"]),
        _token([1.5, "x"]),
        _token([1, 2]),
        _token([True, "x"]),
        _token({"micros": 1, "workflow_id": "x"}),
        _token("ab"),
        _token(5),
        _token(None),
        _token(True),
        _token([10**30, "x"]),  # past any datetime
        _token([2**62, "x"]),
        _token([-(2**62), "x"]),
    ],
)
def test_garbage_page_token_is_invalid_input(token):
    with pytest.raises(InvalidInput) as info:
        decode_page_token(token)
    assert info.value.code == "invalid_input"


def test_paging_through_a_list_with_tokens():
    rows = [_summary(f"wf-{n % 4}", n // 4) for n in range(16)]
    ordered = sorted(rows, key=sort_key)
    seen: list[WorkflowSummary] = []
    token = None
    for _ in range(10):
        cursor = decode_page_token(token) if token else None
        page_rows = [r for r in ordered if after_cursor(r, cursor)][:3]
        page = WorkflowPage(
            workflows=page_rows,
            next_page_token=page_token_for(page_rows[-1]) if len(page_rows) == 3 else None,
        )
        seen.extend(page.workflows)
        token = page.next_page_token
        if token is None:
            break
    assert seen == ordered


def test_after_cursor():
    row = _summary("m", 5)
    assert after_cursor(row, None)
    assert not after_cursor(row, (at(5), "m"))  # the cursor row itself is excluded
    assert after_cursor(row, (at(5), "l"))
    assert not after_cursor(row, (at(5), "n"))
    assert after_cursor(row, (at(6), "z"))  # newer rows come first
    assert not after_cursor(row, (at(4), "a"))
