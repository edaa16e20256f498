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

from aionactors import activity, tracing, workflow
from aionactors.core.workflow_keys import workflow_key
from aionactors.engine.clock import ManualClock
from tests.engine.support import CommitWatch, open_engine
from tests.transports.api import act, post, result, start
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
    assert activity.attributes["workflow.namespace"] == TENANT_A

    # Durable: the run's trace context is on WorkflowStarted, for a restarted engine to use.
    first = engine.history(workflow_key(TENANT_A, started["workflow_id"]))[0]
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


async def test_signal_and_query_spans_join_the_run_trace(client, spans) -> None:
    body = {"namespace": TENANT_A, "workflow_type": "collector"}
    headers = {**tenant(TENANT_A), "traceparent": TRACEPARENT}
    status, started = await post(client, "/workflows/start", body, headers)
    assert status == 200, started
    workflow_id = started["workflow_id"]
    status, _ = await act(client, "signal", workflow_id=workflow_id, signal_name="note", payload=1)
    assert status == 200
    status, answer = await act(client, "query", workflow_id=workflow_id, query_name="notes_so_far")
    assert status == 200 and answer["result"] == [1], answer
    finished = {span.name: span for span in spans.get_finished_spans()}
    for name in ("signal note", "query notes_so_far"):
        assert f"{finished[name].context.trace_id:032x}" == TRACE_ID, name


@activity.defn(name="traced.child_work")
def child_work(value: int) -> int:
    return value + 1


@workflow.defn(name="traced.child")
class TracedChild:
    @workflow.run
    async def run(self, value: int) -> int:
        return await workflow.execute_activity(child_work, value)


@workflow.defn(name="traced.parent")
class TracedParent:
    @workflow.run
    async def run(self, value: int) -> int:
        await workflow.sleep(60)
        return await workflow.execute_child_workflow(TracedChild, value)


TRACED_CODE = {"workflows": [TracedParent, TracedChild], "activities": [child_work]}


def start_parked_in_a_span(engine, value: int):
    """Start a TracedParent inside a span; return once it waits on its timer."""
    watch = CommitWatch(engine)
    with tracing.span("caller"):
        handle = engine.start_workflow(TracedParent, value)
        trace_id = trace.get_current_span().get_span_context().trace_id
    watch.has(handle.workflow_id, "TimerStarted")
    return handle, trace_id


def test_timer_fire_and_child_start_join_the_run_trace(tmp_path, spans) -> None:
    clock = ManualClock()
    engine = open_engine(tmp_path / "traced.db", clock, **TRACED_CODE)
    try:
        handle, trace_id = start_parked_in_a_span(engine, 41)
        clock.advance(61)
        assert engine.result(handle.workflow_id, timeout=20) == 42
        finished = {span.name: span for span in spans.get_finished_spans()}
        for name in ("timer fire", "child start traced.child", "activity traced.child_work"):
            span = next(s for n, s in finished.items() if n.startswith(name))
            assert span.context.trace_id == trace_id, name
        child_id = next(
            e.child_workflow_id
            for e in engine.history(handle.workflow_id)
            if e.type == "ChildWorkflowStarted"
        )
        child_started = engine.history(child_id)[0]
        assert child_started.trace_context["traceparent"].split("-")[1] == f"{trace_id:032x}"
    finally:
        engine.shutdown()


def test_after_a_restart_the_run_still_joins_its_trace(tmp_path, spans) -> None:
    path = tmp_path / "restart.db"
    engine = open_engine(path, ManualClock(), **TRACED_CODE)
    try:
        handle, trace_id = start_parked_in_a_span(engine, 1)
    finally:
        engine.shutdown()
    spans.clear()
    clock = ManualClock()
    engine = open_engine(path, clock, **TRACED_CODE)  # a new process would see the same history
    try:
        clock.advance(120)
        assert engine.result(handle.workflow_id, timeout=20) == 2
    finally:
        engine.shutdown()
    names = {span.name: span.context.trace_id for span in spans.get_finished_spans()}
    assert names["activity traced.child_work"] == trace_id
    assert names["child start traced.child"] == trace_id
