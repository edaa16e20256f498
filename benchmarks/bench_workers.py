"""Remote worker benchmarks: 3-activity workflows/s through `aionactors worker` processes.

    python benchmarks/bench_workers.py            # full run
    python benchmarks/bench_workers.py --smoke    # tiny run, as CI does

The server (engine on a SQLite file + the aiohttp app) runs in this process; 1 and 2
worker processes (`aionactors worker`, max 16 tasks each) serve queue "bench". Dispatch
latency is measured in the server: from the moment the attempt joined its queue (its
ActivityStarted is recorded before that) to the moment its `task` frame is handed to
the worker's socket. The in-process figure is the same workflow with in-process
activities, on the same engine, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from aionactors import Engine
from benchmarks import worker_flows
from benchmarks.common import print_table, write_results
from transports import ServerConfig, create_app
from transports.workers_stream import HUB

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """The app on 127.0.0.1 in a thread of its own; collects dispatch latencies."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.latencies: list[float] = []
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_metric(self, name: str, _labels: dict[str, str], value: float) -> None:
        if name == "worker_dispatch_latency_seconds":
            self.latencies.append(value)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = create_app(self.engine, ServerConfig())
        app[HUB].metrics = self._on_metric
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> Server:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def worker_count(self) -> int:
        hub = self._loop_call(lambda app_hub: len(app_hub.workers))
        return int(hub)

    def _loop_call(self, fn: Any) -> Any:
        async def call() -> Any:
            return fn(self._runner.app[HUB])

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(30)


def run_workflows(engine: Engine, workflow_type: str, count: int, tag: str) -> float:
    """Start ``count`` workflows, wait for all; workflows/s."""
    began = time.perf_counter()
    ids = [engine.start_workflow(workflow_type, i, workflow_id=f"{tag}-{i}").workflow_id
           for i in range(count)]  # fmt: skip
    for workflow_id in ids:
        assert engine.result(workflow_id, timeout=120) is not None
    return count / (time.perf_counter() - began)


def start_workers(url: str, n: int) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "aionactors.cli", "worker", "--server", url,
               "--task-queue", worker_flows.QUEUE, "--load", "benchmarks.worker_flows",
               "--max-concurrent", "16"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
            for _ in range(n)]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(count: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(
            f"sqlite:///{Path(tmp) / 'bench.db'}",
            workflows=[worker_flows.RemoteThree, worker_flows.LocalThree],
            activities=[worker_flows.step],
        )
        try:
            with Server(engine) as server:
                rate = run_workflows(engine, "LocalThree", count, "local")
                rows.append({"activities": "in-process", "workers": 0, "workflows_per_s": rate,
                             "dispatch_p50_ms": None, "dispatch_p99_ms": None})  # fmt: skip
                for n in (1, 2):
                    workers = start_workers(server.url, n)
                    try:
                        deadline = time.monotonic() + 30
                        while server.worker_count() < n and time.monotonic() < deadline:
                            time.sleep(0.05)
                        server.latencies.clear()
                        rate = run_workflows(engine, "RemoteThree", count, f"remote{n}")
                        lat = list(server.latencies)
                        rows.append({
                            "activities": "remote", "workers": n, "workflows_per_s": rate,
                            "dispatch_p50_ms": statistics.median(lat) * 1000,
                            "dispatch_p99_ms": percentile(lat, 0.99) * 1000,
                        })  # fmt: skip
                    finally:
                        for worker in workers:
                            worker.terminate()
                        for worker in workers:
                            worker.wait(30)
        finally:
            engine.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run (for CI)")
    parser.add_argument("--workflows", type=int, help="workflows per row")
    args = parser.parse_args()
    count = args.workflows or (10 if args.smoke else 300)
    rows = measure(count)
    print_table(f"Remote workers ({count} three-activity workflows per row)", rows)
    write_results("workers", {"smoke": args.smoke, "workflows": count, "rows": rows})


if __name__ == "__main__":
    main()
