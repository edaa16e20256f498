"""The workflows and activities the benchmarks run, and the in-process throughput workload.

Shared by the suite's workloads (``aion_workload``, ``replay``, ``residency``,
``profile_throughput``) and the server benchmark; run them through
``python -m benchmarks``.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, activity, workflow
from aionactors.core.events import Event
from aionactors.store import SQLiteStore

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
