"""Issue 13 defect 1: a rejected schedule records nothing, and a schedule whose stored
history cannot be loaded is isolated instead of taking the schedule subsystem down."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from aionactors.core import events as ev
from aionactors.core.schedules import CatchUpPolicy, OverlapPolicy, ScheduleConfig, ScheduleSpec
from aionactors.schedule.state import history_id
from aionactors.store.contract import WriteToken
from tests.transports.api import get, post
from tests.transports.conftest import open_engine
from transports import ServerConfig, create_app


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"every_seconds": 6.9e16}, "spec.every_seconds"),  # the exact probe that answered 500
        ({"every_seconds": "60"}, "spec.every_seconds"),  # a string is not a number
        ({"every_seconds": 60, "offset_seconds": "1"}, "spec.offset_seconds"),
        ({"every_seconds": 60, "jitter_seconds": 1e300}, "spec.jitter_seconds"),
    ],
)
async def test_an_invalid_spec_is_400_naming_the_field_and_records_nothing(
    client: TestClient, engine, spec: dict, field: str
) -> None:
    head = engine.store.head_position()
    status, body = await post(
        client, "/schedules", {"schedule_id": "bad", "spec": spec, "workflow_type": "greeter"}
    )
    assert status == 400, body
    assert body["code"] == "invalid_input" and field in body["message"], body
    assert engine.store.head_position() == head
    assert engine.store.head_seq(history_id("bad")) == 0

    status, body = await post(
        client, "/schedules", {"spec": {"every_seconds": 60}, "workflow_type": "greeter"}
    )
    assert status == 200, body  # the subsystem is unharmed
    status, body = await get(client, "/schedules")
    assert status == 200 and len(body["schedules"]) == 1


def _poison(path: Path) -> None:
    """Write a schedule history this version rejects straight into the store (old data)."""
    engine = open_engine(path)
    try:
        spec = ScheduleSpec.model_construct(
            cron=None, timezone="UTC", every_seconds=6.9e16, offset_seconds=0,
            start_at=None, end_at=None, jitter_seconds=0,
        )  # fmt: skip
        config = ScheduleConfig.model_construct(
            namespace="default", spec=spec, workflow_type="greeter", input=None,
            overlap_policy=OverlapPolicy.SKIP, catch_up_policy=CatchUpPolicy.ONE,
            catch_up_window_seconds=None, search_attributes={},
        )  # fmt: skip
        event = ev.ScheduleCreated.model_construct(
            seq=1, recorded_at=engine.clock.now(), workflow_id=history_id("poisoned"),
            schedule_id="poisoned", config=config,
        )  # fmt: skip
        engine.store.append(WriteToken.recorder(), history_id("poisoned"), [event], 0)
        assert engine.schedules is not None
        engine.schedules.create({"spec": {"every_seconds": 60}, "workflow_type": "greeter"}, "ok")
    finally:
        engine.shutdown()


async def test_a_poisoned_schedule_history_is_isolated_after_restart(
    tmp_path: Path, aiohttp_client
) -> None:
    path = tmp_path / "poisoned.db"
    _poison(path)
    engine = open_engine(path)
    try:
        client = await aiohttp_client(create_app(engine, ServerConfig()))
        status, body = await get(client, "/schedules/poisoned")
        assert status == 409 and body["error_type"] == "ScheduleBroken", body
        assert "cannot be loaded" in body["message"]
        status, body = await get(client, "/schedules")
        assert status == 200, body
        assert [s["schedule_id"] for s in body["schedules"]] == ["ok"]
        status, body = await post(
            client, "/schedules", {"spec": {"every_seconds": 30}, "workflow_type": "greeter"}
        )
        assert status == 200, body
        status, body = await get(client, "/health/ready")
        assert status == 200, body
    finally:
        engine.shutdown()  # returns: nothing is stuck on the isolated schedule


async def test_readiness_is_503_when_the_schedule_subsystem_is_down(
    client: TestClient, engine
) -> None:
    assert engine.schedules is not None
    engine.schedules._supervisor.stop()  # what the supervisor giving up leaves behind
    status, body = await get(client, "/health/ready")
    assert status == 503 and body["code"] == "unavailable", body
    assert "schedule" in body["message"]
