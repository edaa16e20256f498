"""Engine benchmarks: 3-activity workflow throughput and latency, replay speed, parked memory.

python benchmarks/bench_engine.py            # full run (a few minutes)
python benchmarks/bench_engine.py --smoke    # tiny run, as CI does
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, activity, workflow
from aionactors.core.events import Event
from aionactors.core.status import last_run_segment
from aionactors.store import SQLiteStore
from aionactors.workflow.driver import WorkflowDriver
from benchmarks.common import print_table, write_results

STARTERS = 64
"""Threads starting workflows concurrently in the concurrent workload."""
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@activity.defn
def step(n: int) -> int:
    return n + 1


@workflow.defn(name="three_steps")
class ThreeSteps:
    @workflow.run
    async def run(self, n: int) -> int:
        n = await workflow.execute_activity(step, n)
        n = await workflow.execute_activity(step, n)
        return await workflow.execute_activity(step, n)


@workflow.defn(name="no_steps")
class NoSteps:
    """Start, then complete: what a workflow costs before it does anything."""

    @workflow.run
    async def run(self, n: int) -> int:
        return n


@workflow.defn(name="long_history")
class LongHistory:
    @workflow.run
    async def run(self, activities: int) -> int:
        total = 0
        for _ in range(activities):
            total = await workflow.execute_activity(step, total)
        return total


@workflow.defn(name="parked_forever")
class ParkedForever:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def finish(self) -> None:
        self.done = True


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def sqlite_settings(store: SQLiteStore) -> dict[str, str]:
    """The journal mode and synchronous level in force on the store's own connections."""
    with store._transaction(commit=False) as cursor:  # a benchmark may look inside
        cursor.execute("PRAGMA journal_mode")
        journal = str(cursor.fetchone()[0]).upper()
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
    return {
        "version": sqlite3.sqlite_version,
        "journal_mode": journal,
        "synchronous": SYNCHRONOUS.get(synchronous, str(synchronous)),
    }


def throughput(
    folder: Path,
    count: int,
    concurrent: bool,
    *,
    starters: int = STARTERS,
    commits: list[Sequence[Event]] | None = None,
    empty: bool = False,
) -> dict[str, Any]:
    """Run ``count`` ThreeSteps (or, ``empty``, NoSteps) workflows.

    ``commits`` (if given) receives every committed batch.
    """
    label = "concurrent" if concurrent else "sequential"
    kind = NoSteps if empty else ThreeSteps
    with Engine.open(
        SQLiteStore(folder / f"throughput-{label}.db"),
        workflows=[kind],
        activities=[step],
        activity_workers=64,
    ) as engine:
        latencies: list[float] = []
        started_at: dict[str, float] = {}
        lock = threading.Lock()
        done = threading.Event()
        finished = 0

        def on_commit(events: Sequence[Event]) -> None:  # a run ends when its last event commits
            nonlocal finished
            now = time.perf_counter()
            if commits is not None:
                commits.append(events)
            for event in events:
                if event.type == "WorkflowCompleted":
                    with lock:
                        latencies.append(now - started_at[event.workflow_id])
                        finished += 1
                        if finished == count:
                            done.set()

        engine.add_commit_listener(on_commit)

        def start(index: int) -> None:
            workflow_id = f"{label}-{index}"
            with lock:
                started_at[workflow_id] = time.perf_counter()
            engine.start_workflow(kind, index, workflow_id=workflow_id)
            if not concurrent:
                engine.result(workflow_id, timeout=60)

        began = time.perf_counter()
        if concurrent:  # many clients starting at once, as a server would see them
            with ThreadPoolExecutor(starters) as pool:
                list(pool.map(start, range(count)))
        else:
            for index in range(count):
                start(index)
        done.wait(600)
        elapsed = time.perf_counter() - began
        batches, appends = engine.writer.batches, engine.writer.appends
        settings = sqlite_settings(engine.store)  # type: ignore[arg-type]
    return {
        "workload": f"{'no-activity' if empty else '3-activity'} workflow, {label}"
        + (f" ({starters} starters)" if concurrent else ""),
        "workflows": count,
        "seconds": round(elapsed, 3),
        "workflows_per_s": round(count / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "appends_per_commit": round(appends / max(batches, 1), 1),
        "sqlite": settings,
    }


def replay(folder: Path, events_wanted: int) -> dict[str, Any]:
    activities = max((events_wanted - 3) // 3, 1)
    with Engine.open(
        SQLiteStore(folder / "replay.db"), workflows=[LongHistory], activities=[step]
    ) as engine:
        engine.start_workflow(LongHistory, activities, workflow_id="long")
        engine.result("long", timeout=600)
        history = engine.history("long")
        definition = engine.registry.workflow("long_history")
        segment = last_run_segment(history)
        began = time.perf_counter()
        driver = WorkflowDriver(definition, segment[0], "default")  # type: ignore[arg-type]
        driver.start()
        for event in segment[1:]:
            driver.apply(event)
        pure = time.perf_counter() - began
        began = time.perf_counter()
        loaded = engine.store.read_history("long")
        read = time.perf_counter() - began
    return {
        "workload": f"replay of a {len(history):,}-event history",
        "events": len(history),
        "read_ms": round(read * 1000, 1),
        "replay_ms": round(pure * 1000, 1),
        "events_per_s": round(len(history) / (pure + read), 1),
        "same_result": driver.terminal is not None and len(loaded) == len(history),
    }


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parked(folder: Path, count: int) -> dict[str, Any]:
    path = folder / "parked.db"
    with Engine.open(
        SQLiteStore(path), workflows=[ParkedForever], max_resident=1000, idle_seconds=0
    ) as engine:
        before = rss_kib()
        began = time.perf_counter()
        for index in range(count):
            engine.start_workflow(ParkedForever, workflow_id=f"parked-{index}")
        elapsed = time.perf_counter() - began
        engine.residency.sweep()
        resident = engine.residency.resident_count()
        after = rss_kib()
        size = sum(p.stat().st_size for p in folder.glob("parked.db*"))
    return {
        "workload": f"{count:,} parked workflows, evicted (max_resident=1000)",
        "workflows": count,
        "starts_per_s": round(count / elapsed, 1),
        "resident_actors": resident,
        "rss_bytes_per_workflow": round((after - before) * 1024 / count, 1),
        "store_bytes_per_workflow": round(size / count, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--workflows", type=int, default=2000)
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--replay-events", type=int, default=10_000)
    parser.add_argument("--parked", type=int, default=20_000)
    args = parser.parse_args()
    if args.smoke:
        args.workflows, args.sequential, args.replay_events, args.parked = 20, 5, 300, 200
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [
            throughput(folder, args.workflows, concurrent=True),
            throughput(folder, args.sequential, concurrent=False),
        ]
        replay_row = replay(folder, args.replay_events)
        parked_row = parked(folder, args.parked)
    print_table("Throughput (SQLite file, in process)", rows)
    print_table("Replay", [replay_row])
    print_table("Parked workflows", [parked_row])
    write_results(
        "engine",
        {
            "parameters": vars(args),
            "cpu_count": os.cpu_count(),
            "throughput": rows,
            "replay": replay_row,
            "parked": parked_row,
            "latency_ms_median_all": round(statistics.median([r["p50_ms"] for r in rows]), 2),
        },
    )


if __name__ == "__main__":
    main()
