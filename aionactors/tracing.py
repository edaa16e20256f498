"""Optional OpenTelemetry tracing: one trace per workflow run, from the caller to its activities.

Only the OpenTelemetry *API* is used, and only when it is installed
(``pip install 'aionactors[otel]'``); the application chooses the SDK and the
exporter by setting a tracer provider. Without the package, or with no provider
set, every helper here is a no-op: ``span`` yields at once and
``current_carrier`` returns None.

The run's trace context is the W3C ``traceparent``/``tracestate`` pair of the
span that started it, recorded on ``WorkflowStarted.trace_context``, so the
activity attempts of a run join its trace even after a restart. The same
carrier dict is what a remote worker's task frame would carry (there are no
remote workers yet): ``span("activity", carrier=task.trace_context)`` on the
worker side continues the trace.

Example::

    with tracing.span("aionactors.update", attributes={"workflow.id": wid}):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
except ImportError:  # the [otel] extra is not installed: tracing is off, at no cost
    otel_context = None  # type: ignore[assignment]
    propagate = None  # type: ignore[assignment]
    trace = None  # type: ignore[assignment]

TRACER_NAME = "aionactors"


def available() -> bool:
    """True when the OpenTelemetry API is importable."""
    return trace is not None


def _recording() -> bool:
    """True when spans go somewhere: the API is installed and an SDK provider is set.
    Checked first so that the API alone (no provider) costs one isinstance per call."""
    return trace is not None and not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


def current_carrier() -> dict[str, str] | None:
    """The current span's W3C trace context, or None when no span is being recorded."""
    if not _recording() or not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextmanager
def span(
    name: str,
    *,
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """A span named ``name``, a child of ``carrier``'s context when given (else of the
    current span); a no-op without OpenTelemetry."""
    if not _recording():
        yield
        return
    context = propagate.extract(carrier) if carrier else None
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(name, context=context, attributes=dict(attributes or {})):
        yield


@contextmanager
def within(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make ``carrier``'s context current without a new span: for work handed to another
    thread (a thread pool does not carry context variables)."""
    if not carrier or not _recording():
        yield
        return
    token = otel_context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)
