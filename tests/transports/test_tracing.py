"""Tracing (the [otel] extra): one trace from an HTTP start carrying a W3C traceparent through
the run's activity attempt, the trace context recorded durably on WorkflowStarted, and no-ops
without OpenTelemetry. Skipped when the extra is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aionactors import tracing
from tests.transports.api import post, result, start
from tests.transports.support import TENANT_A, tenant

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider():
    """One SDK provider for the process (OpenTelemetry allows setting it once)."""
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        current = TracerProvider()
        trace.set_tracer_provider(current)
    current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    return current


@pytest.fixture
def spans():
    _EXPORTER.clear()
    return _EXPORTER


async def test_one_trace_from_the_http_start_through_the_activity(client, engine, spans) -> None:
    body = {"namespace": TENANT_A, "workflow_type": "shouter", "input": "trace"}
    status, started = await post(
        client, "/workflows/start", body, {**tenant(TENANT_A), "traceparent": TRACEPARENT}
    )
    assert status == 200, started
    outcome = await result(client, started["workflow_id"])
    assert outcome["status"] == "Completed", outcome
    finished = {span.name: span for span in spans.get_finished_spans()}
    http = finished["POST /workflows/start"]
    activity = finished["activity shout"]
    assert f"{http.context.trace_id:032x}" == TRACE_ID
    assert f"{http.parent.span_id:016x}" == PARENT_ID  # it continued the caller's span
    assert activity.context.trace_id == http.context.trace_id
    assert activity.parent.span_id == http.context.span_id
    assert activity.attributes["workflow.id"] == started["workflow_id"]
    assert activity.attributes["activity.attempt"] == 1

    # Durable: the run's trace context is on WorkflowStarted, for a restarted engine to use.
    first = engine.history(started["workflow_id"])[0]
    assert first.type == "WorkflowStarted"
    assert first.trace_context["traceparent"].split("-")[1] == TRACE_ID


async def test_a_request_without_traceparent_starts_its_own_trace(client, spans) -> None:
    started = await start(client, "shouter", input="fresh")
    await result(client, started["workflow_id"])
    finished = {span.name: span for span in spans.get_finished_spans()}
    http, activity = finished["POST /workflows/start"], finished["activity shout"]
    assert http.parent is None
    assert activity.context.trace_id == http.context.trace_id


def test_without_opentelemetry_the_helpers_do_nothing(monkeypatch) -> None:
    monkeypatch.setattr(tracing, "trace", None)
    monkeypatch.setattr(tracing, "propagate", None)
    assert not tracing.available()
    assert tracing.current_carrier() is None
    with tracing.span("anything", carrier={"traceparent": TRACEPARENT}):
        assert tracing.current_carrier() is None


def test_the_carrier_is_the_current_span_in_w3c_form() -> None:
    assert tracing.current_carrier() is None  # no span: nothing to record
    with tracing.span("outer"):
        carrier = tracing.current_carrier()
        span_id = trace.get_current_span().get_span_context().span_id
    assert carrier is not None and carrier["traceparent"].split("-")[2] == f"{span_id:016x}"
