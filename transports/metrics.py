"""Server metrics with prometheus-client, one registry per app.

Workflow, activity and signal counts come from the engine's commit listener
(they count durable events, once each); it runs on the writer thread, so it
only bumps integers that a collector reads at scrape time. Latencies:
``aionactors_durable_ack_seconds`` is the time until the engine acknowledged a
durable append (start, signal, cancel): group-commit wait + store append +
fsync. ``aionactors_activity_attempt_seconds`` is an attempt's recorded start
to its recorded outcome (engine clock), by activity type and outcome. The
process and platform collectors add ``process_*`` and ``python_info``. Each app
has its own ``CollectorRegistry``, so several apps in one process never collide.

``render(accept)`` answers in the OpenMetrics format when the scraper asks for
it (``Accept: application/openmetrics-text``) and in text format 0.0.4 otherwise
(prometheus-client's own negotiation).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from aionactors import Event
from aionactors.core.events import (
    ActivityCancelled,
    ActivityCompleted,
    ActivityFailed,
    ActivityScheduled,
    ActivityStarted,
)

# Group commit + fsync: sub-millisecond on a fast disk, tens of ms on a busy one, seconds
# only when the store is in trouble (the write timeout is the top bucket's neighbour).
DURABLE_ACK_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
)  # fmt: skip
# Activities do I/O: from a fast local call (ms) to a slow API (minutes).
ACTIVITY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
)  # fmt: skip
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_OPEN_ATTEMPTS = 100_000  # attempts awaiting an outcome; beyond, the oldest are forgotten

Labels = tuple[tuple[str, str], ...]
Reading = Callable[[], dict[Labels, float] | float]

_EVENT_COUNTERS: dict[str, tuple[str, str]] = {
    "WorkflowStarted": ("workflows_started", "Workflow runs started (durable WorkflowStarted)."),
    "WorkflowCompleted": ("workflows_completed", "Workflow runs completed."),
    "WorkflowFailed": ("workflows_failed", "Workflow runs failed."),
    "WorkflowCancelled": ("workflows_cancelled", "Workflow runs cancelled."),
    "WorkflowTimedOut": ("workflows_timed_out", "Workflow runs timed out."),
    "ActivityScheduled": ("activities_scheduled", "Activities scheduled."),
    "ActivityCompleted": ("activities_completed", "Activity attempts that completed."),
    "ActivityFailed": ("activities_failed", "Activity attempts that failed."),
    "SignalReceived": ("signals_received", "Signals recorded."),
}


class Labelled:
    """A labelled prometheus metric called as ``inc(**labels)`` / ``observe(v, **labels)``."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric

    def inc(self, amount: float = 1, **labels: str) -> None:
        self._metric.labels(**labels).inc(amount)  # type: ignore[union-attr]

    def observe(self, value: float, **labels: str) -> None:
        self._metric.labels(**labels).observe(value)  # type: ignore[union-attr]


class _ScrapeTimeCollector(Collector):
    """Event counts and gauges read when Prometheus scrapes, not when things happen."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        metrics = self._metrics
        for event_type, (name, help_text) in _EVENT_COUNTERS.items():
            family = CounterMetricFamily(f"aionactors_{name}", help_text)
            family.add_metric([], metrics.event_counts[event_type])
            yield family
        for name, help_text, value in (
            ("aionactors_events_committed", "Events committed.", metrics.events_committed),
            ("aionactors_commit_batches", "Commit batches.", metrics.commit_batches),
        ):
            yield CounterMetricFamily(name, help_text, value=value)
        for name, help_text, read, kind in metrics.gauges:
            yield _family(name, help_text, read(), kind)


def _family(name: str, help_text: str, value: dict[Labels, float] | float, kind: str) -> Metric:
    samples = value if isinstance(value, dict) else {(): value}
    label_names = sorted({k for labels in samples for k, _ in labels})
    if kind == "counter":
        family: Metric = CounterMetricFamily(name, help_text, labels=label_names)
    else:
        family = GaugeMetricFamily(name, help_text, labels=label_names)
    for labels, sample in sorted(samples.items()):
        values = dict(labels)
        family.add_metric([values.get(k, "") for k in label_names], sample)  # type: ignore[attr-defined]
    return family


class ServerMetrics:
    """Every metric the server exposes; ``render(accept)`` is the /metrics body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.event_counts: dict[str, int] = dict.fromkeys(_EVENT_COUNTERS, 0)
        self.events_committed = 0
        self.commit_batches = 0
        self.gauges: list[tuple[str, str, Reading, str]] = []
        self._open_attempts: dict[tuple[str, str, int], tuple[str, datetime]] = {}
        self._activity_types: dict[tuple[str, str], str] = {}
        self._attempts_lock = threading.Lock()
        registry = self.registry
        self.http_requests = Labelled(
            Counter("aionactors_http_requests", "HTTP requests by route and status.",
                    ["route", "status"], registry=registry)
        )  # fmt: skip
        self.http_seconds = Labelled(
            Histogram("aionactors_http_request_duration_seconds", "HTTP request latency by route.",
                      ["route"], buckets=HTTP_BUCKETS, registry=registry)
        )  # fmt: skip
        self.durable_ack = Labelled(
            Histogram(
                "aionactors_durable_ack_seconds",
                "Time until the engine acknowledged a durable append "
                "(group-commit wait + store append + fsync), by operation.",
                ["operation"], buckets=DURABLE_ACK_BUCKETS, registry=registry,
            )
        )  # fmt: skip
        self.activity_seconds = Labelled(
            Histogram(
                "aionactors_activity_attempt_seconds",
                "Activity attempt latency, recorded start to recorded outcome (engine clock).",
                ["activity_type", "outcome"], buckets=ACTIVITY_BUCKETS, registry=registry,
            )
        )  # fmt: skip
        self.stream_frames = Counter(
            "aionactors_stream_frames", "Event frames sent on /events/stream.", registry=registry
        )
        self.stream_endings = Labelled(
            Counter("aionactors_stream_endings",
                    "Event streams ended, by error code or 'complete'.", ["reason"],
                    registry=registry)
        )  # fmt: skip
        self.workers_connected = Gauge(
            "aionactors_workers_connected", "Remote workers connected now.", registry=registry
        )
        self.worker_dispatch = Labelled(
            Histogram(
                "aionactors_worker_dispatch_seconds",
                "Task queued (its attempt recorded) to task frame handed to a worker's socket.",
                ["task_queue"], buckets=DURABLE_ACK_BUCKETS, registry=registry,
            )
        )  # fmt: skip
        registry.register(_ScrapeTimeCollector(self))

    def worker_metric(self, name: str, labels: dict[str, str], value: float) -> None:
        """The worker hub's metrics hook (transports.workers_stream.MetricsHook)."""
        if name == "workers_connected":
            self.workers_connected.set(value)
        elif name == "worker_dispatch_latency_seconds":
            self.worker_dispatch.observe(value, **labels)

    def on_commit(self, events: Sequence[Event]) -> None:
        """The engine's commit listener (it runs on the writer thread): counts and timings."""
        self.commit_batches += 1
        self.events_committed += len(events)
        counts = self.event_counts
        for event in events:
            kind = event.type
            if kind in counts:
                counts[kind] += 1
            if kind.startswith("Activity"):
                self._time_attempt(event)

    def _time_attempt(self, event: Event) -> None:
        key = (event.workflow_id, str(getattr(event, "activity_id", "")))
        opened = None
        with self._attempts_lock:
            match event:
                case ActivityScheduled(activity_type=activity_type):
                    self._activity_types[key] = activity_type
                    _bound(self._activity_types)
                case ActivityStarted(attempt=attempt):
                    kind = self._activity_types.get(key, "unknown")
                    self._open_attempts[(*key, attempt)] = (kind, event.recorded_at)
                    _bound(self._open_attempts)
                case ActivityCompleted() | ActivityFailed() | ActivityCancelled():
                    opened = self._open_attempts.pop((*key, event.attempt), None)
                    if not isinstance(event, ActivityFailed):  # a failure may be retried
                        self._activity_types.pop(key, None)
        if opened is not None:
            kind, started = opened
            outcome = event.type.removeprefix("Activity").lower()
            seconds = max(0.0, (event.recorded_at - started).total_seconds())
            self.activity_seconds.observe(seconds, activity_type=kind, outcome=outcome)

    def add_gauge(self, name: str, help_text: str, read: Reading, kind: str = "gauge") -> None:
        """A value read at scrape time (``kind="counter"`` for a count kept elsewhere)."""
        self.gauges.append((name.removesuffix("_total"), help_text, read, kind))

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition body and its content type, negotiated from the ``Accept`` header
        by prometheus-client itself (OpenMetrics when asked for, text 0.0.4 otherwise)."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


def _bound(table: dict) -> None:
    if len(table) > _MAX_OPEN_ATTEMPTS:
        del table[next(iter(table))]
