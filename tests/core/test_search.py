"""Search attributes: typed values, value_of and the name→type schema."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from aionactors.core.errors import InvalidInput
from aionactors.core.search import (
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    NAMESPACE_ATTRIBUTE,
    PACKAGE_VERSION_ATTRIBUTE,
    SEARCH_ATTRIBUTES_ADAPTER,
    TASK_QUEUE_ATTRIBUTE,
    BoolValue,
    DatetimeValue,
    FloatValue,
    IntValue,
    KeywordListValue,
    SearchAttributeSchema,
    SearchAttributeType,
    StringValue,
    value_of,
)

from .factories import ALL_VALUE_KINDS, at

T = SearchAttributeType


def test_reserved_names():
    assert NAMESPACE_ATTRIBUTE == "aion.namespace"
    assert TASK_QUEUE_ATTRIBUTE == "aion.task_queue"
    assert DEFAULT_NAMESPACE == "default"
    assert DEFAULT_TASK_QUEUE == "default"


# --- value_of -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x", StringValue(data="x")),
        ("", StringValue(data="")),
        (0, IntValue(data=0)),
        (-42, IntValue(data=-42)),
        (2.5, FloatValue(data=2.5)),
        (0.0, FloatValue(data=0.0)),
        (True, BoolValue(data=True)),
        (False, BoolValue(data=False)),
        (at(0), DatetimeValue(data=at(0))),
        (["a", "b"], KeywordListValue(data=("a", "b"))),
        (("a",), KeywordListValue(data=("a",))),
        ([], KeywordListValue(data=())),
    ],
)
def test_value_of(raw, expected):
    value = value_of(raw)
    assert value == expected
    assert type(value) is type(expected)


def test_bool_is_bool_not_int():
    assert value_of(True).type == "Bool"
    assert value_of(1).type == "Int"
    assert value_of(True) != value_of(1)
    assert value_of(0) != value_of(False)


def test_value_of_datetime_normalises_to_utc():
    value = value_of(datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert value.data == datetime(2026, 1, 1, tzinfo=UTC)
    assert value.data.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"a": 1},
        {"a"},
        b"bytes",
        [1, 2],
        ["a", 1],
        ("a", None),
        [["a"]],
        object(),
        1 + 2j,
        datetime(2026, 1, 1),  # naive: its zone would be a guess
        math.nan,
        math.inf,
        -math.inf,
    ],
    ids=repr,
)
def test_value_of_unsupported_is_invalid_input(raw):
    with pytest.raises(InvalidInput) as info:
        value_of(raw)
    assert info.value.code == "invalid_input"


# --- value models and their JSON ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_VALUE_KINDS))
def test_value_json_round_trip(name):
    attributes = {name: ALL_VALUE_KINDS[name]}
    text = SEARCH_ATTRIBUTES_ADAPTER.dump_json(attributes)
    assert SEARCH_ATTRIBUTES_ADAPTER.validate_json(text) == attributes
    data = json.loads(text)[name]
    assert set(data) == {"type", "data"}
    assert data["type"] == ALL_VALUE_KINDS[name].type


def test_value_wire_shapes():
    dumped = json.loads(SEARCH_ATTRIBUTES_ADAPTER.dump_json(ALL_VALUE_KINDS))
    assert dumped["s"] == {"type": "String", "data": "x"}
    assert dumped["i"] == {"type": "Int", "data": -7}
    assert dumped["f"] == {"type": "Float", "data": 2.5}
    assert dumped["b"] == {"type": "Bool", "data": False}
    assert dumped["d"] == {"type": "Datetime", "data": "2026-11-22T13:00:03.123456Z"}
    assert dumped["k"] == {"type": "KeywordList", "data": ["a", "b"]}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Strange", "data": "x"},
        {"data": "x"},
        {"type": "String"},
        {"type": "String", "data": "x", "extra": 1},
        {"type": "Int", "data": "not a number"},
        {"type": "Int", "data": 1.5},
        {"type": "Datetime", "data": "2026-01-01T00:00:00"},
        {"type": "KeywordList", "data": [1, 2]},
        {"type": "KeywordList", "data": "ab"},
        "x",
        1,
    ],
)
def test_bad_value_json_is_rejected(bad):
    with pytest.raises(ValidationError):
        SEARCH_ATTRIBUTES_ADAPTER.validate_python({"a": bad})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_float_value_rejects_non_finite(bad):
    # JSON cannot hold NaN/inf: they would be written as null and never read back.
    with pytest.raises(ValidationError):
        FloatValue(data=bad)


def test_values_are_frozen():
    value = StringValue(data="x")
    with pytest.raises(ValidationError):
        value.data = "y"
    assert hash(value) == hash(StringValue(data="x"))


# --- schema ---------------------------------------------------------------------------


def test_default_schema_is_empty_and_rejects_everything():
    schema = SearchAttributeSchema()
    assert schema.types() == {}
    schema.validate({})
    with pytest.raises(InvalidInput):
        schema.validate({NAMESPACE_ATTRIBUTE: StringValue(data="a")})


def test_with_reserved():
    schema = SearchAttributeSchema.with_reserved()
    assert schema.types() == {
        NAMESPACE_ATTRIBUTE: T.STRING,
        TASK_QUEUE_ATTRIBUTE: T.STRING,
        PACKAGE_VERSION_ATTRIBUTE: T.STRING,
    }
    schema.validate(
        {NAMESPACE_ATTRIBUTE: StringValue(data="a"), TASK_QUEUE_ATTRIBUTE: StringValue(data="q")}
    )
    with pytest.raises(InvalidInput):
        schema.validate({NAMESPACE_ATTRIBUTE: IntValue(data=1)})


def test_constructor_registers_types():
    schema = SearchAttributeSchema({"a": T.INT, "b": "Bool"})
    assert schema.types() == {"a": T.INT, "b": T.BOOL}


def test_register_same_type_is_idempotent():
    schema = SearchAttributeSchema()
    schema.register("n", T.INT)
    schema.register("n", T.INT)
    schema.register("n", "Int")
    assert schema.types() == {"n": T.INT}


def test_register_conflicting_type_is_invalid_input():
    schema = SearchAttributeSchema.with_reserved()
    schema.register("n", T.INT)
    with pytest.raises(InvalidInput) as info:
        schema.register("n", T.FLOAT)
    assert "'n'" in info.value.message
    with pytest.raises(InvalidInput):
        schema.register(NAMESPACE_ATTRIBUTE, T.KEYWORD_LIST)
    assert schema.types()["n"] is T.INT
    assert schema.types()[NAMESPACE_ATTRIBUTE] is T.STRING


def test_conflicting_types_in_constructor_are_invalid_input():
    schema = SearchAttributeSchema({"a": T.STRING})
    assert schema.types() == {"a": T.STRING}
    with pytest.raises(InvalidInput):
        SearchAttributeSchema.with_reserved().register(TASK_QUEUE_ATTRIBUTE, "Int")


@pytest.mark.parametrize("kind", ["Nope", "string", "", "Integer"])
def test_register_unknown_type_is_invalid_input(kind):
    schema = SearchAttributeSchema()
    with pytest.raises(InvalidInput):
        schema.register("x", kind)
    assert schema.types() == {}


def test_types_returns_a_copy():
    schema = SearchAttributeSchema.with_reserved()
    schema.types().clear()
    assert len(schema.types()) == 3


@pytest.mark.parametrize("name", sorted(ALL_VALUE_KINDS))
def test_validate_accepts_each_type(name):
    value = ALL_VALUE_KINDS[name]
    SearchAttributeSchema({name: value.type}).validate({name: value})


@pytest.mark.parametrize(
    ("registered", "value"),
    [
        (T.INT, BoolValue(data=True)),
        (T.INT, FloatValue(data=1.0)),
        (T.FLOAT, IntValue(data=1)),
        (T.STRING, KeywordListValue(data=("a",))),
        (T.KEYWORD_LIST, StringValue(data="a")),
        (T.DATETIME, StringValue(data="2026-01-01T00:00:00Z")),
        (T.BOOL, IntValue(data=1)),
    ],
)
def test_validate_wrong_type_is_invalid_input(registered, value):
    schema = SearchAttributeSchema({"a": registered})
    with pytest.raises(InvalidInput) as info:
        schema.validate({"a": value})
    assert info.value.code == "invalid_input"
    assert info.value.error_type == "ValidationError"


def test_validate_unregistered_is_invalid_input():
    schema = SearchAttributeSchema({"a": T.STRING})
    with pytest.raises(InvalidInput, match="'b'"):
        schema.validate({"a": StringValue(data="ok"), "b": StringValue(data="x")})
