"""Operational events are logged once, at an operator's levels, with structured fields; the
JSON and text formatters of `serve` write those fields."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from aionactors import Engine
from aionactors.demo import Checkout, charge_card, ship
from aionactors.engine.broadcaster import Broadcaster
from transports.logs import JsonFormatter, TextFormatter, configure_logging


def events_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aionactors.events"]


def test_a_retried_activity_attempt_is_one_warning_with_its_workflow(caplog) -> None:
    caplog.set_level(logging.INFO, logger="aionactors.events")
    with Engine.open("memory://", workflows=[Checkout], activities=[charge_card, ship]) as engine:
        handle = engine.start_workflow(Checkout, {"id": 1, "amount": 2}, workflow_id="wf-retry")
        engine.signal(handle.workflow_id, "approve")
        assert engine.result(handle.workflow_id, timeout=30)["status"] == "shipped"
    retried = [r for r in events_logged(caplog) if "retrying" in r.getMessage()]
    assert len(retried) == 1  # charge_card fails exactly once
    record = retried[0]
    assert record.levelno == logging.WARNING
    assert (record.workflow_id, record.attempt, record.activity_type) == (
        "wf-retry", 1, "charge_card"
    )  # fmt: skip
    assert record.run_id == handle.run_id
    assert "payment gateway timed out" in record.getMessage()


async def test_a_lagged_subscriber_is_one_info_line(engine, caplog) -> None:
    caplog.set_level(logging.INFO, logger="aionactors.events")
    broadcaster = Broadcaster.start(engine)
    try:
        loop = asyncio.get_running_loop()
        subscription = broadcaster.subscribe(loop, lambda _: True, bound=1)
        handle = await engine.start_workflow_async("collector")
        for n in range(3):
            await engine.signal_async(handle.workflow_id, "note", n)
        for _ in range(200):
            if broadcaster.lagged_total:
                break
            await asyncio.sleep(0.01)
        subscription.close()
    finally:
        broadcaster.close()
    lagged = [r for r in events_logged(caplog) if "cut off" in r.getMessage()]
    assert len(lagged) == 1
    assert lagged[0].levelno == logging.INFO and lagged[0].subscriber == subscription.id


def record_with_fields() -> logging.LogRecord:
    record = logging.LogRecord("aionactors.events", logging.WARNING, "x.py", 1,
                               "workflow %s failed", ("wf-1",), None)  # fmt: skip
    record.workflow_id, record.run_id, record.error_type = "wf-1", "run-1", None
    return record


def test_the_json_formatter_writes_extras_as_keys() -> None:
    line = json.loads(JsonFormatter().format(record_with_fields()))
    assert line["message"] == "workflow wf-1 failed"
    assert (line["level"], line["logger"]) == ("WARNING", "aionactors.events")
    assert (line["workflow_id"], line["run_id"]) == ("wf-1", "run-1")
    assert "error_type" not in line and line["time"].endswith("Z")


def test_the_text_formatter_appends_extras() -> None:
    line = TextFormatter().format(record_with_fields())
    assert line.endswith("aionactors.events: workflow wf-1 failed workflow_id=wf-1 run_id=run-1")


def test_configure_logging_json_goes_to_the_stream() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    try:
        configure_logging("json", out)
        logging.getLogger("aionactors.serve").info("hello", extra={"workflow_id": "w"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert json.loads(out.getvalue())["workflow_id"] == "w"
