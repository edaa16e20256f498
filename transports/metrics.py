"""Server metrics in the Prometheus text format (version 0.0.4).

Workflow, activity and signal counts come from the engine's commit listener
(they count durable events, once each). Latencies are measured around the
server's own engine calls: ``aionactors_durable_ack_seconds`` is the time
until the engine acknowledged a durable append (start, signal, cancel), which
includes the group-commit wait, the store append and its fsync.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence

from aionactors import Event

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items()) or [((), 0)]
        for labels, value in items:
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class Gauge:
    """Read at scrape time from ``read`` (one sample per returned label set).

    ``kind="counter"`` exposes a monotonic count kept elsewhere (e.g. by the broadcaster).
    """

    def __init__(
        self,
        name: str,
        help_text: str,
        read: Callable[[], dict[Labels, float] | float],
        kind: str = "gauge",
    ) -> None:
        self.name, self.help, self._read, self.kind = name, help_text, read, kind

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        value = self._read()
        samples = value if isinstance(value, dict) else {(): value}
        for labels, sample in sorted(samples.items()) or [((), 0)]:
            yield f"{self.name}{_labels(labels)} {_number(sample)}"


class Histogram:
    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> None:
        self.name, self.help = name, help_text
        self._bounds = tuple(buckets)
        self._series: dict[Labels, tuple[list[int], list[float]]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * (len(self._bounds) + 1), [0.0]))
            for index, bound in enumerate(self._bounds):
                if value <= bound:
                    counts[index] += 1
                    break
            else:
                counts[-1] += 1
            total[0] += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            series = {k: (list(c), t[0]) for k, (c, t) in self._series.items()}
        for labels, (counts, total) in sorted(series.items()):
            cumulative = 0
            for bound, count in zip((*self._bounds, math.inf), counts, strict=True):
                cumulative += count
                le = (*labels, ("le", _number(float(bound))))
                yield f"{self.name}_bucket{_labels(le)} {cumulative}"
            yield f"{self.name}_sum{_labels(labels)} {_number(total)}"
            yield f"{self.name}_count{_labels(labels)} {cumulative}"


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


class ServerMetrics:
    """Every metric the server exposes; ``render()`` is the /metrics body."""

    def __init__(self) -> None:
        self._event_counts: dict[str, int] = dict.fromkeys(_EVENT_COUNTERS, 0)
        self.events_committed = 0
        self.commit_batches = 0
        self.http_requests = Counter(
            "aionactors_http_requests_total", "HTTP requests by route and status."
        )
        self.http_seconds = Histogram(
            "aionactors_http_request_duration_seconds", "HTTP request latency by route."
        )
        self.durable_ack = Histogram(
            "aionactors_durable_ack_seconds",
            "Time until the engine acknowledged a durable append "
            "(group-commit wait + store append + fsync), by operation.",
        )
        self.stream_frames = Counter(
            "aionactors_stream_frames_total", "Event frames sent on /events/stream."
        )
        self.stream_endings = Counter(
            "aionactors_stream_endings_total", "Event streams ended, by error code or 'complete'."
        )
        self._gauges: list[Gauge] = []

    def on_commit(self, events: Sequence[Event]) -> None:
        """The engine's commit listener: counts only (it runs on the writer thread)."""
        self.commit_batches += 1
        self.events_committed += len(events)
        counts = self._event_counts
        for event in events:
            if event.type in counts:
                counts[event.type] += 1

    def add_gauge(
        self,
        name: str,
        help_text: str,
        read: Callable[[], dict[Labels, float] | float],
        kind: str = "gauge",
    ) -> None:
        self._gauges.append(Gauge(name, help_text, read, kind))

    def render(self) -> str:
        lines: list[str] = []
        for event_type, (name, help_text) in _EVENT_COUNTERS.items():
            full = f"aionactors_{name}_total"
            lines += [
                f"# HELP {full} {help_text}",
                f"# TYPE {full} counter",
                f"{full} {self._event_counts[event_type]}",
            ]
        for name, help_text, value in (
            ("aionactors_events_committed_total", "Events committed.", self.events_committed),
            ("aionactors_commit_batches_total", "Commit batches.", self.commit_batches),
        ):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter", f"{name} {value}"]
        for metric in (
            self.http_requests,
            self.http_seconds,
            self.durable_ack,
            self.stream_frames,
            self.stream_endings,
            *self._gauges,
        ):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
