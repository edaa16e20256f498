"""Identifiers: TimerId's canonical text form, reserved names, minted ids, workflow ids."""

from __future__ import annotations

import uuid

import pytest
from pydantic import TypeAdapter, ValidationError

from aionactors.core.ids import (
    RESERVED_TIMER_PREFIXES,
    WORKFLOW_ID_MAX_LENGTH,
    TimerId,
    TimerIdField,
    WorkflowId,
    new_id,
)

TIMER_ADAPTER = TypeAdapter(TimerIdField)


@pytest.mark.parametrize(
    ("timer_id", "text"),
    [
        (TimerId.named("x"), "named:x"),
        (TimerId.named("with:colons:inside"), "named:with:colons:inside"),
        (TimerId.named(" spaced "), "named: spaced "),
        (TimerId.named("ünïcödé"), "named:ünïcödé"),
        (TimerId.anonymous(0), "anonymous:0"),
        (TimerId.anonymous(3), "anonymous:3"),
        (TimerId.anonymous(10**20), "anonymous:" + "1" + "0" * 20),
    ],
)
def test_str_and_parse_round_trip(timer_id, text):
    assert str(timer_id) == text
    assert TimerId.parse(text) == timer_id
    assert str(TimerId.parse(text)) == text


def test_named_and_anonymous_constructors():
    named = TimerId.named("n")
    assert named == TimerId(name="n")
    assert named.is_named
    assert named.ordinal is None
    anonymous = TimerId.anonymous(2)
    assert anonymous == TimerId(ordinal=2)
    assert not anonymous.is_named
    assert anonymous.name is None


def test_equality_and_hashing():
    assert TimerId.named("3") != TimerId.anonymous(3)
    assert hash(TimerId.named("a")) == hash(TimerId.parse("named:a"))
    assert {TimerId.named("a"), TimerId.parse("named:a"), TimerId.anonymous(1)} == {
        TimerId.named("a"),
        TimerId.anonymous(1),
    }


def test_timer_id_is_immutable():
    timer = TimerId.named("a")
    with pytest.raises(AttributeError):
        timer.name = "b"


@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        ("deadline:run", True),
        ("deadline:", True),
        ("schedule:tick-1", True),
        ("deadline", False),
        ("schedule", False),
        ("my-deadline:x", False),
        ("Deadline:x", False),
        ("nap", False),
    ],
)
def test_reserved_prefixes(name, reserved):
    assert TimerId.named(name).is_reserved is reserved
    assert TimerId.parse(f"named:{name}").is_reserved is reserved


def test_anonymous_timers_are_never_reserved():
    assert not TimerId.anonymous(0).is_reserved


def test_reserved_prefix_constant():
    assert RESERVED_TIMER_PREFIXES == ("deadline:", "schedule:")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"name": "a", "ordinal": 1},
        {"name": ""},
        {"ordinal": -1},
        {"ordinal": True},
        {"ordinal": 1.5},
        {"ordinal": "3"},
        {"name": 3},
    ],
)
def test_invalid_constructions_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        TimerId(**kwargs)


def test_invalid_factory_arguments_raise_value_error():
    with pytest.raises(ValueError):
        TimerId.named("")
    with pytest.raises(ValueError):
        TimerId.anonymous(-5)


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        "named",
        "named:",
        "anonymous",
        "anonymous:",
        "anonymous:-1",
        "anonymous:+1",
        "anonymous: 1",
        "anonymous:1 ",
        "anonymous:1.0",
        "anonymous:x",
        "anonymous:01",
        "anonymous:00",
        "anonymous:\u00b2",  # SUPERSCRIPT TWO: isdigit() but not a decimal ordinal
        "anonymous:\u0663",  # ARABIC-INDIC DIGIT THREE
        "Named:x",
        "ANONYMOUS:1",
        "timer:named:x",
        "x",
    ],
)
def test_parse_rejects_non_canonical_text(text):
    with pytest.raises(ValueError):
        TimerId.parse(text)


def test_parse_error_names_the_input():
    with pytest.raises(ValueError, match="'bogus'"):
        TimerId.parse("bogus")


def test_timer_id_field_accepts_text_and_instances():
    assert TIMER_ADAPTER.validate_python("named:a") == TimerId.named("a")
    assert TIMER_ADAPTER.validate_python(TimerId.anonymous(1)) == TimerId.anonymous(1)
    assert TIMER_ADAPTER.validate_json('"anonymous:7"') == TimerId.anonymous(7)
    assert TIMER_ADAPTER.dump_python(TimerId.anonymous(7)) == "anonymous:7"
    assert TIMER_ADAPTER.dump_json(TimerId.named("a")) == b'"named:a"'
    for bad in (1, None, b"named:a", {"Named": "a"}):
        with pytest.raises(ValidationError):
            TIMER_ADAPTER.validate_python(bad)


def test_timer_id_field_json_schema_is_a_pattern_string():
    schema = TIMER_ADAPTER.json_schema()
    assert schema["type"] == "string"
    assert "named:" in schema["pattern"]
    assert "anonymous:" in schema["pattern"]


def test_new_id_is_a_fresh_uuid4():
    first, second = new_id(), new_id()
    assert first != second
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first


def test_workflow_id_limits():
    adapter = TypeAdapter(WorkflowId)
    assert WORKFLOW_ID_MAX_LENGTH == 255
    assert adapter.validate_python("a") == "a"
    assert adapter.validate_python("a" * 255) == "a" * 255
    for bad in ("", "a" * 256):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
