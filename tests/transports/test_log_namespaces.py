"""Operator logs name a workflow as callers do: its id plus a ``namespace`` field, never
the engine's ``namespace\\x1fid`` key (issue 13: keys are per namespace)."""

from __future__ import annotations

import json
import logging

import pytest

from aionactors import Engine
from aionactors.core.workflow_keys import KEY_SEPARATOR, workflow_key
from aionactors.demo import Checkout, charge_card, ship
from tests.transports import sample_workflows as s
from transports.logs import JsonFormatter, TextFormatter

TENANT = "tenant-a"


def event_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The ``aionactors.events`` records as ``--log-format json`` writes them."""
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name == "aionactors.events"]


def assert_no_keys(line: str) -> None:
    assert KEY_SEPARATOR not in line and "\\u001f" not in line, line


def test_event_lines_of_a_namespace_show_the_id_and_the_namespace(caplog) -> None:
    caplog.set_level(logging.INFO, logger="aionactors.events")
    workflows, activities = [Checkout, *s.WORKFLOWS], [charge_card, ship, *s.ACTIVITIES]
    with Engine.open("memory://", workflows=workflows, activities=activities) as engine:
        order = engine.start_workflow(
            Checkout, {"id": 1, "amount": 2}, workflow_id="order-1", namespace=TENANT
        )
        assert order.workflow_id == workflow_key(TENANT, "order-1")  # keyed in the engine
        engine.signal(order.workflow_id, "approve")
        assert engine.result(order.workflow_id, timeout=30)["status"] == "shipped"
        failing = engine.start_workflow("failing", "no stock", workflow_id="f-1", namespace=TENANT)
        with pytest.raises(Exception, match="no stock"):
            engine.result(failing.workflow_id, timeout=30)
    lines = event_lines(caplog)
    entries = [json.loads(line) for line in lines]
    retried = [e for e in entries if "retrying" in e["message"]]
    failed = [e for e in entries if e["message"].startswith("workflow f-1 failed")]
    assert len(retried) == 1 and len(failed) == 1, entries
    assert (retried[0]["workflow_id"], retried[0]["namespace"]) == ("order-1", TENANT)
    assert "(workflow order-1)" in retried[0]["message"]
    assert (failed[0]["workflow_id"], failed[0]["namespace"]) == ("f-1", TENANT)
    for line in lines:
        assert_no_keys(line)


def test_the_default_namespace_is_a_field_too(caplog) -> None:
    caplog.set_level(logging.INFO, logger="aionactors.events")
    with Engine.open("memory://", workflows=s.WORKFLOWS, activities=s.ACTIVITIES) as engine:
        handle = engine.start_workflow("failing", "boom", workflow_id="plain")
        with pytest.raises(Exception, match="boom"):
            engine.result(handle.workflow_id, timeout=30)
    (entry,) = [json.loads(line) for line in event_lines(caplog) if "failed" in line]
    assert (entry["workflow_id"], entry["namespace"]) == ("plain", "default")


def test_a_key_another_logger_passes_is_shown_as_its_id() -> None:
    key = workflow_key(TENANT, "order-9")
    record = logging.LogRecord("aionactors.cluster", logging.INFO, "x.py", 1,
                               "forwarding workflow %r to %s", (key, "node-b"), None)  # fmt: skip
    record.workflow_id = key
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "forwarding workflow 'order-9' to node-b"
    assert (entry["workflow_id"], entry["namespace"]) == ("order-9", TENANT)
    text = TextFormatter().format(record)
    assert text.endswith(
        "forwarding workflow 'order-9' to node-b workflow_id=order-9 namespace=tenant-a"
    )
    assert_no_keys(text)
