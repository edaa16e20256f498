"""The schedule model recorded in schedule events."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from aionactors.core.schedules import CatchUpPolicy, OverlapPolicy, ScheduleConfig, ScheduleSpec
from aionactors.core.search import StringValue

from .factories import CRON_CONFIG, INTERVAL_CONFIG, at


def test_cron_spec_defaults():
    spec = ScheduleSpec(cron="*/5 * * * *")
    assert spec.timezone == "UTC"
    assert spec.every_seconds is None
    assert spec.offset_seconds == 0
    assert spec.start_at is None
    assert spec.end_at is None
    assert spec.jitter_seconds == 0


def test_interval_spec():
    spec = ScheduleSpec(every_seconds=30, offset_seconds=5)
    assert spec.every_seconds == 30
    assert spec.cron is None


@pytest.mark.parametrize("every", [0.001, 1, 86_400])
def test_every_seconds_positive_is_accepted(every):
    assert ScheduleSpec(every_seconds=every).every_seconds == every


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"timezone": "Europe/Berlin"},
        {"cron": "* * * * *", "every_seconds": 30},
        {"every_seconds": 0},
        {"every_seconds": -1},
        {"every_seconds": float("nan")},
        {"every_seconds": 30, "offset_seconds": -1},
        {"every_seconds": 30, "jitter_seconds": -0.5},
        {"every_seconds": 30, "start_at": at(10), "end_at": at(10)},
        {"every_seconds": 30, "start_at": at(10), "end_at": at(5)},
        {"every_seconds": 30, "start_at": datetime(2026, 1, 1)},
        {"every_seconds": 30, "interval": 5},
        {"Cron": {"expression": "* * * * *"}},
    ],
)
def test_invalid_specs_are_rejected(fields):
    with pytest.raises(ValidationError):
        ScheduleSpec(**fields)


def test_end_after_start_is_accepted():
    spec = ScheduleSpec(every_seconds=1, start_at=at(10), end_at=at(10.000001))
    assert spec.end_at > spec.start_at
    assert ScheduleSpec(every_seconds=1, end_at=at(0)).start_at is None
    assert ScheduleSpec(every_seconds=1, start_at=at(0)).end_at is None


def test_spec_from_protocol_json():
    cron = ScheduleSpec.model_validate_json('{"cron": "*/5 * * * *", "timezone": "Europe/Berlin"}')
    assert cron.cron == "*/5 * * * *"
    assert cron.timezone == "Europe/Berlin"
    every = ScheduleSpec.model_validate_json('{"every_seconds": 30, "offset_seconds": 0}')
    assert every.every_seconds == 30


def test_config_defaults():
    config = ScheduleConfig(spec=ScheduleSpec(cron="0 * * * *"), workflow_type="w")
    assert config.namespace == "default"
    assert config.input is None
    assert config.overlap_policy is OverlapPolicy.SKIP
    assert config.catch_up_policy is CatchUpPolicy.ONE
    assert config.catch_up_window_seconds is None
    assert config.search_attributes == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"workflow_type": ""},
        {"workflow_type": "w", "overlap_policy": "sometimes"},
        {"workflow_type": "w", "catch_up_policy": "most"},
        {"workflow_type": "w", "catch_up_window_seconds": 0},
        {"workflow_type": "w", "catch_up_window_seconds": -5},
        {"workflow_type": "w", "paused": True},
        {"workflow_type": "w", "search_attributes": {"a": "plain"}},
        {"workflow_type": "w", "spec": {"cron": "* * * * *", "extra": 1}},
        {"workflow_type": "w", "spec": {}},
    ],
)
def test_invalid_configs_are_rejected(fields):
    data = {"spec": {"every_seconds": 10}, **fields}
    with pytest.raises(ValidationError):
        ScheduleConfig.model_validate(data)


def test_config_missing_fields_are_rejected():
    with pytest.raises(ValidationError):
        ScheduleConfig.model_validate({"spec": {"every_seconds": 10}})
    with pytest.raises(ValidationError):
        ScheduleConfig.model_validate({"workflow_type": "w"})


def test_policy_wire_values():
    assert [p.value for p in OverlapPolicy] == [
        "skip",
        "buffer_one",
        "buffer_all",
        "cancel_previous",
        "terminate_previous",
        "allow_all",
    ]
    assert [p.value for p in CatchUpPolicy] == ["skip", "one", "all"]


@pytest.mark.parametrize("config", [CRON_CONFIG, INTERVAL_CONFIG], ids=["cron", "interval"])
def test_config_json_round_trip(config):
    text = config.model_dump_json()
    parsed = ScheduleConfig.model_validate_json(text)
    assert parsed == config
    assert parsed.model_dump_json() == text


def test_config_json_shape():
    data = json.loads(CRON_CONFIG.model_dump_json())
    assert data["spec"]["start_at"] == "2026-11-22T13:00:00.123456Z"
    assert data["overlap_policy"] == "buffer_all"
    assert data["catch_up_policy"] == "all"
    assert data["search_attributes"] == {"team": {"type": "String", "data": "ops"}}
    assert CRON_CONFIG.search_attributes["team"] == StringValue(data="ops")


def test_config_is_frozen():
    with pytest.raises(ValidationError):
        INTERVAL_CONFIG.workflow_type = "other"
