"""What tracing costs: workflow throughput with OpenTelemetry absent, API only, and SDK on.

Each mode runs in its own process on an in-memory store (so the engine's own
work, not fsync, is what tracing is compared with): N workflows of one activity
each, every start made inside a ``tracing.span`` as the HTTP layer does.

- ``off``: the ``opentelemetry`` package cannot be imported (as without the extra).
- ``api``: the API is installed but no SDK provider is set (the no-op tracer).
- ``sdk``: an SDK ``TracerProvider`` exporting every span to an in-memory exporter.

    python benchmarks/bench_tracing.py            # 2,000 workflows, best of 3 per mode
    python benchmarks/bench_tracing.py --smoke    # a few seconds, for CI

Prints a table and writes benchmarks/results/tracing.json.
"""

from __future__ import annotations

import argparse
import importlib.abc
import json
import sys
import time
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from benchmarks.common import print_table, run_json, write_results

MODES = ("off", "api", "sdk")


class _NoOpenTelemetry(importlib.abc.MetaPathFinder):
    """Makes ``import opentelemetry`` fail, as it does without the [otel] extra."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by bench_tracing)")


def measure(mode: str, count: int) -> dict[str, Any]:
    if mode == "off":
        sys.meta_path.insert(0, _NoOpenTelemetry())
    from aionactors import Engine, activity, tracing, workflow

    exporter = None
    if mode == "sdk":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

    @activity.defn(name="bench.echo")
    def echo(value: int) -> int:
        return value

    @workflow.defn(name="bench.traced")
    class Traced:
        @workflow.run
        async def run(self, value: int) -> int:
            return await workflow.execute_activity(echo, value)

    with Engine.open("memory://", workflows=[Traced], activities=[echo]) as engine:
        began = time.perf_counter()
        ids = []
        for i in range(count):
            with tracing.span("bench start"):
                ids.append(engine.start_workflow(Traced, i).workflow_id)
        for workflow_id in ids:
            engine.result(workflow_id, timeout=120)
        elapsed = time.perf_counter() - began
    spans = len(exporter.get_finished_spans()) if exporter is not None else 0
    return {
        "mode": mode,
        "otel_importable": tracing.available(),
        "workflows": count,
        "seconds": round(elapsed, 3),
        "workflows_per_s": round(count / elapsed, 1),
        "spans_exported": spans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--workflows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.workflows)))
        return
    count, repeats = (30, 1) if args.smoke else (args.workflows, args.repeats)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for _ in range(repeats):  # interleaved, so drift in the machine's load hits every mode
        for mode in MODES:
            command = [sys.executable, "benchmarks/bench_tracing.py", "--child", mode,
                       "--workflows", str(count)]  # fmt: skip
            runs[mode].append(run_json(command, f"tracing mode {mode}", timeout=900)[0])
    rows = [max(runs[mode], key=lambda run: run["workflows_per_s"]) for mode in MODES]
    baseline = rows[0]["workflows_per_s"]
    for row in rows:
        row["vs_off"] = f"{row['workflows_per_s'] / baseline:.2f}x"
    print_table(f"Tracing cost ({count} one-activity workflows, best of {repeats})", rows)
    write_results("tracing", {"workflows": count, "repeats": repeats, "rows": rows})


if __name__ == "__main__":
    main()
