"""Events: the flat JSON form, round trips, and what the parser refuses."""

from __future__ import annotations

import json
import re
import typing
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from aionactors.core import events as ev
from aionactors.core.events import (
    EVENT_TYPES,
    Event,
    EventBase,
    event_dict,
    event_from_dict,
    event_json,
    parse_event,
)
from aionactors.core.ids import TimerId
from aionactors.core.status import TERMINAL_EVENT_TYPES

from .factories import T0, WF, at, env, event_samples

RFC3339_MICROS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SAMPLES = event_samples()


def _sample_id(event: EventBase) -> str:
    return f"{event.type}-{event.seq}"


def _envelope(**extra: object) -> dict[str, object]:
    return {"seq": 1, "recorded_at": "2026-11-22T13:00:00.123456Z", "workflow_id": WF, **extra}


def _timer_fired(**overrides: object) -> dict[str, object]:
    return {**_envelope(type="TimerFired", timer_id="named:x"), **overrides}


# --- coverage of the variant list -----------------------------------------------------


def test_there_are_39_event_types():
    # The reference's 34; cancel requests (workflow, child); updates; patch markers.
    assert len(EVENT_TYPES) == 39


def test_samples_cover_every_event_type():
    sampled = {type(event) for event in SAMPLES}
    missing = sorted(name for name, cls in EVENT_TYPES.items() if cls not in sampled)
    assert not missing, f"add a sample to factories.event_samples() for: {missing}"
    assert sampled == set(EVENT_TYPES.values())


def test_event_types_keys_are_class_names_and_type_defaults():
    for name, cls in EVENT_TYPES.items():
        assert cls.__name__ == name
        assert issubclass(cls, EventBase)
        assert cls.model_fields["type"].default == name


def test_event_union_holds_exactly_the_event_types():
    union, _discriminator = typing.get_args(Event)
    assert set(typing.get_args(union)) == set(EVENT_TYPES.values())


def test_terminal_event_types():
    expected = {
        "WorkflowCompleted",
        "WorkflowFailed",
        "WorkflowCancelled",
        "WorkflowTimedOut",
        "WorkflowContinuedAsNew",
    }
    assert expected == TERMINAL_EVENT_TYPES
    assert set(EVENT_TYPES) >= TERMINAL_EVENT_TYPES


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("event", SAMPLES, ids=_sample_id)
def test_json_round_trip(event):
    data = event_json(event)
    parsed = parse_event(data)
    assert type(parsed) is type(event)
    assert parsed == event
    again = event_json(parsed)
    assert json.loads(again) == json.loads(data)
    assert again == data


@pytest.mark.parametrize("event", SAMPLES, ids=_sample_id)
def test_dict_round_trip_matches_json(event):
    as_dict = event_dict(event)
    assert as_dict == json.loads(event_json(event))
    assert event_from_dict(as_dict) == event
    assert parse_event(json.dumps(as_dict)) == event  # str input as well as bytes


@pytest.mark.parametrize("event", SAMPLES, ids=_sample_id)
def test_json_is_flat_with_envelope(event):
    data = json.loads(event_json(event))
    assert data["type"] == type(event).__name__
    assert data["seq"] == event.seq
    assert data["workflow_id"] == event.workflow_id
    assert RFC3339_MICROS_Z.match(data["recorded_at"]), data["recorded_at"]
    assert "envelope" not in data
    assert "data" not in data
    assert set(data) == set(type(event).model_fields)


@pytest.mark.parametrize("event", SAMPLES, ids=_sample_id)
def test_unknown_extra_field_is_rejected(event):
    data = json.loads(event_json(event))
    data["surprise"] = 1
    with pytest.raises(ValidationError):
        parse_event(json.dumps(data))


def test_protocol_example_parses():
    text = (
        '{"type": "SignalReceived", "seq": 2, "recorded_at": "2026-11-22T13:00:00.123456Z",'
        ' "workflow_id": "wf-1", "name": "approve", "payload": {"ok": true}}'
    )
    event = parse_event(text)
    assert event == ev.SignalReceived(
        seq=2, recorded_at=T0, workflow_id="wf-1", name="approve", payload={"ok": True}
    )


def test_recorded_at_exact_text():
    event = ev.SignalReceived(**env(1), name="x")
    assert event_dict(event)["recorded_at"] == "2026-11-22T13:00:01.123456Z"


def test_recorded_at_with_offset_is_normalised_to_utc():
    event = parse_event(json.dumps(_timer_fired(recorded_at="2026-11-22T14:00:00.5+01:00")))
    assert event.recorded_at == datetime(2026, 11, 22, 13, 0, 0, 500000, tzinfo=UTC)
    assert event.recorded_at.utcoffset().total_seconds() == 0
    assert event_dict(event)["recorded_at"] == "2026-11-22T13:00:00.500000Z"


def test_recorded_at_without_fraction_gains_microseconds():
    event = parse_event(json.dumps(_timer_fired(recorded_at="2026-11-22T13:00:00Z")))
    assert event_dict(event)["recorded_at"] == "2026-11-22T13:00:00.000000Z"


def test_nested_datetimes_are_rfc3339_z():
    event = ev.TimerStarted(**env(1), timer_id=TimerId.named("t"), fire_at=at(60))
    data = event_dict(event)
    assert data["fire_at"] == "2026-11-22T13:01:00.123456Z"
    triggered = ev.ScheduleTriggered(
        **env(2), schedule_id="s", triggered_workflow_id="w", triggered_run_id="r", fire_at=at(0)
    )
    assert event_dict(triggered)["fire_at"] == "2026-11-22T13:00:00.123456Z"


def test_events_are_frozen():
    event = ev.SignalReceived(**env(1), name="x")
    with pytest.raises(ValidationError):
        event.name = "y"


def test_defaults_follow_the_reference():
    base = _envelope()
    scheduled = event_from_dict(
        {**base, "type": "ActivityScheduled", "activity_id": 0, "activity_type": "a"}
    )
    assert scheduled.task_queue == "default"
    assert scheduled.node is None
    assert scheduled.input is None
    cancelled = event_from_dict({**base, "type": "TimerCancelled", "timer_id": "anonymous:0"})
    assert cancelled.cause is ev.TimerCancelCause.WORKFLOW_INTENT
    timed_out = event_from_dict({**base, "type": "WorkflowTimedOut"})
    assert timed_out.timeout == "workflow"
    wf_cancelled = event_from_dict({**base, "type": "WorkflowCancelled"})
    assert wf_cancelled.reason == ""
    reopened = event_from_dict({**base, "type": "WorkflowReopened", "run_id": "r"})
    assert reopened.reopened == ()


def test_enum_fields_serialise_as_their_names():
    cancelled = ev.TimerCancelled(
        **env(1), timer_id=TimerId.anonymous(0), cause=ev.TimerCancelCause.CANCEL_TEARDOWN
    )
    assert event_dict(cancelled)["cause"] == "CancelTeardown"
    with_timeout = ev.WithTimeoutCompleted(
        **env(2), timer_id=TimerId.anonymous(0), outcome=ev.WithTimeoutOutcome.TIMED_OUT
    )
    assert event_dict(with_timeout)["outcome"] == "TimedOut"


def test_activity_failed_requires_attempt():
    data = _envelope(
        type="ActivityFailed", activity_id=0, error={"kind": "Terminal", "message": "m"}
    )
    with pytest.raises(ValidationError):
        event_from_dict(data)
    assert event_from_dict({**data, "attempt": 1}).attempt == 1


# --- rejections -----------------------------------------------------------------------


def test_unknown_type_is_rejected():
    with pytest.raises(ValidationError):
        parse_event(json.dumps(_timer_fired(type="TimerExploded")))


def test_missing_type_is_rejected():
    data = _timer_fired()
    del data["type"]
    with pytest.raises(ValidationError):
        parse_event(json.dumps(data))


@pytest.mark.parametrize("seq", [0, -1])
def test_seq_below_one_is_rejected(seq):
    with pytest.raises(ValidationError):
        parse_event(json.dumps(_timer_fired(seq=seq)))
    with pytest.raises(ValidationError):
        ev.TimerFired(seq=seq, recorded_at=T0, workflow_id=WF, timer_id=TimerId.named("x"))


@pytest.mark.parametrize("field", ["seq", "recorded_at", "workflow_id", "timer_id"])
def test_missing_required_field_is_rejected(field):
    data = _timer_fired()
    del data[field]
    with pytest.raises(ValidationError):
        parse_event(json.dumps(data))


@pytest.mark.parametrize(
    "recorded_at", ["2026-11-22T13:00:00", "2026-11-22T13:00:00.123456", "not a time", ""]
)
def test_naive_or_malformed_recorded_at_is_rejected(recorded_at):
    with pytest.raises(ValidationError):
        parse_event(json.dumps(_timer_fired(recorded_at=recorded_at)))


def test_naive_datetime_is_rejected_in_python():
    with pytest.raises(ValidationError):
        ev.SignalReceived(seq=1, recorded_at=datetime(2026, 1, 1), workflow_id=WF, name="x")
    with pytest.raises(ValidationError):
        ev.TimerStarted(**env(1), timer_id=TimerId.named("t"), fire_at=datetime(2026, 1, 1))


def test_workflow_id_length_limits():
    with pytest.raises(ValidationError):
        parse_event(json.dumps(_timer_fired(workflow_id="")))
    with pytest.raises(ValidationError):
        parse_event(json.dumps(_timer_fired(workflow_id="w" * 256)))
    assert parse_event(json.dumps(_timer_fired(workflow_id="w" * 255))).workflow_id == "w" * 255
    assert parse_event(json.dumps(_timer_fired(workflow_id="ü"))).workflow_id == "ü"


@pytest.mark.parametrize(
    ("cls", "field", "extra"),
    [
        (ev.SignalSent, "target_workflow_id", {"name": "n"}),
        (ev.ChildWorkflowStarted, "child_workflow_id", {"workflow_type": "t"}),
        (ev.ChildWorkflowCompleted, "child_workflow_id", {}),
        (
            ev.ScheduleTriggered,
            "triggered_workflow_id",
            {"schedule_id": "s", "triggered_run_id": "r"},
        ),
    ],
)
def test_other_workflow_id_fields_have_the_same_limits(cls, field, extra):
    assert getattr(cls(**env(1), **{field: "x" * 255}, **extra), field) == "x" * 255
    for bad in ("", "x" * 256):
        with pytest.raises(ValidationError):
            cls(**env(1), **{field: bad}, **extra)


def test_negative_activity_id_and_attempt_are_rejected():
    with pytest.raises(ValidationError):
        ev.ActivityStarted(**env(1), activity_id=-1)
    with pytest.raises(ValidationError):
        ev.ActivityStarted(**env(1), activity_id=0, attempt=-1)
    with pytest.raises(ValidationError):
        ev.WorkflowReopened(**env(1), run_id="r", reopened=(1, -2))


def test_type_literal_cannot_be_overridden():
    with pytest.raises(ValidationError):
        ev.WorkflowCompleted(**env(1), type="WorkflowFailed")


def test_nested_models_forbid_extra_fields():
    bad_error = _envelope(
        type="WorkflowFailed", error={"message": "m", "type": None, "stack": "..."}
    )
    with pytest.raises(ValidationError):
        event_from_dict(bad_error)
    bad_kind = _envelope(
        type="ActivityFailed", activity_id=0, attempt=1, error={"kind": "Maybe", "message": "m"}
    )
    with pytest.raises(ValidationError):
        event_from_dict(bad_kind)


def test_bad_enum_values_are_rejected():
    with pytest.raises(ValidationError):
        event_from_dict(_envelope(type="TimerCancelled", timer_id="named:t", cause="Whim"))
    with pytest.raises(ValidationError):
        event_from_dict(_envelope(type="WithTimeoutCompleted", timer_id="named:t", outcome="Meh"))


def test_non_json_text_is_rejected():
    with pytest.raises(ValidationError):
        parse_event(b"{not json")
    with pytest.raises(ValidationError):
        parse_event(b"[]")


# --- timer ids in events --------------------------------------------------------------


@pytest.mark.parametrize(
    ("timer_id", "text"),
    [
        (TimerId.named("x"), "named:x"),
        (TimerId.anonymous(3), "anonymous:3"),
        (TimerId.anonymous(0), "anonymous:0"),
        (TimerId.named("deadline:run"), "named:deadline:run"),
        (TimerId.named("a b:c"), "named:a b:c"),
    ],
)
def test_timer_id_serialises_as_text(timer_id, text):
    event = ev.TimerFired(**env(1), timer_id=timer_id)
    assert event_dict(event)["timer_id"] == text
    parsed = parse_event(json.dumps(_timer_fired(timer_id=text)))
    assert parsed.timer_id == timer_id
    assert isinstance(parsed.timer_id, TimerId)


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        "named:",
        "named",
        "anonymous:",
        "anonymous:-1",
        "anonymous:x",
        "anonymous:1.5",
        "anonymous: 1",
        "anonymous:007",
        "anonymous:\u0663",  # ARABIC-INDIC DIGIT THREE: not a canonical ordinal
        "Named:x",
        "timer:named:x",
        "",
        3,
        None,
        {"Named": "x"},
        {"Anonymous": 3},
        ["named:x"],
    ],
)
@pytest.mark.parametrize("cls", [ev.TimerFired, ev.TimerStarted, ev.TimerCancelled])
def test_bad_timer_ids_are_rejected(cls, bad):
    data = _envelope(type=cls.__name__, timer_id=bad, fire_at="2026-11-22T13:00:00Z")
    if cls is not ev.TimerStarted:
        del data["fire_at"]
    with pytest.raises(ValidationError):
        parse_event(json.dumps(data))


def test_early_year_datetimes_round_trip():
    # rfc3339 once wrote year 5 as "5-01-01…", which the parser then refused.
    early = datetime(5, 1, 1, tzinfo=UTC)
    event = ev.TimerStarted(**env(1), timer_id=TimerId.named("t"), fire_at=early)
    assert event_dict(event)["fire_at"] == "0005-01-01T00:00:00.000000Z"
    assert parse_event(event_json(event)) == event


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_payloads_are_refused_when_an_event_is_built(bad):
    # JSON would write them as null, so replay would see None where the live run saw NaN.
    with pytest.raises(ValidationError, match="finite number"):
        ev.ActivityCompleted(**env(1), activity_id=0, result={"x": [bad]})
    with pytest.raises(ValidationError, match="finite number"):
        ev.WorkflowStarted(**env(1), workflow_type="t", run_id="r", input=bad)
