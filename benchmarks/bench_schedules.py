"""Schedule benchmark: fire-time lag of many interval schedules on the real clock.

N interval schedules fire every E seconds for a while, all on the same
boundary (the worst case: N starts in one burst). The lag of a tick is the
recorded_at of its run's WorkflowStarted minus its scheduled fire time;
"recorded" is the same for the ScheduleTriggered that makes the tick durable.
For context it also measures the engine's own ceiling (how many of the same
one-step workflows per second it starts and completes, with no schedules) and
the evaluator's own cost per tick over in-memory seams (no engine, no store).

python benchmarks/bench_schedules.py            # 1,000 schedules for ~10 s
python benchmarks/bench_schedules.py --smoke    # tiny run, as CI does
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, workflow
from aionactors.core.events import Event
from aionactors.core.schedules import ScheduleConfig
from aionactors.schedule import Seams, StartedRun, tick_workflow_id
from aionactors.schedule.actor import ScheduleActor, ScheduleRuntime
from aionactors.schedule.directory import Directory
from aionactors.schedule.messages import Create, Describe, RunEnded, Wake
from aionactors.store import SQLiteStore
from benchmarks.common import print_table, write_results


@workflow.defn(name="bench_tick")
class Tick:
    @workflow.run
    async def run(self, n: int) -> int:
        return n


class StartTimes:
    """Commit listener: when each scheduled run's WorkflowStarted was recorded."""

    def __init__(self) -> None:
        self.started: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type == "WorkflowStarted" and "/" in event.workflow_id:
                with self._lock:
                    self.started[event.workflow_id] = event.recorded_at


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def engine_ceiling(workflows: int) -> dict[str, Any]:
    """Starts + completions per second of the bench workflow, 32 starter threads, no schedules."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(SQLiteStore(Path(tmp) / "ceiling.db"), workflows=[Tick])
        completed = threading.Semaphore(0)
        engine.add_commit_listener(
            lambda events: [completed.release() for e in events if e.type == "WorkflowCompleted"]
        )
        began = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda i: engine.start_workflow("bench_tick", i), range(workflows)))
        for _ in range(workflows):
            completed.acquire(timeout=60)
        seconds = time.perf_counter() - began
        engine.shutdown()
    return {"workflows": workflows, "workflows_per_s": round(workflows / seconds, 1)}


class _MemorySeams:
    """Timer, starter, canceller, sink and source in memory: the evaluator alone."""

    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)
        self.histories: dict[str, list[Event]] = {}

    def now(self) -> datetime:
        return self.current

    def arm(self, when: datetime, callback: Any) -> Any:
        return self

    def cancel(self, *args: Any, **kwargs: Any) -> None:
        return None

    def find(self, workflow_id: str) -> StartedRun | None:
        return None

    def start(self, workflow_id: str, schedule_id: str, config: Any) -> StartedRun:
        return StartedRun(workflow_id, "run")

    def append(self, history_id: str, events: Sequence[Event], expected_seq: int) -> None:
        self.histories.setdefault(history_id, []).extend(events)

    def read_history(self, history_id: str) -> list[Event]:
        return list(self.histories.get(history_id, []))

    def schedule_ids(self) -> list[str]:
        return []


def evaluator_overhead(ticks: int) -> dict[str, Any]:
    """CPU per tick of the schedule actor's own work: decide, record, fold, re-arm, end."""
    memory = _MemorySeams()
    seams = Seams(memory, memory, memory, memory, memory)
    actor = ScheduleActor.start(ScheduleRuntime(seams, Directory(), 20, 10_000, 1_000), "o")
    config = {"spec": {"every_seconds": 1}, "workflow_type": "t", "overlap_policy": "allow_all"}
    actor.ask(Create(ScheduleConfig.model_validate(config)))
    began = time.perf_counter()
    for _ in range(ticks):
        memory.current += timedelta(seconds=1)
        actor.tell(Wake())
        actor.tell(RunEnded(tick_workflow_id("o", memory.current), "Completed"))
    actor.ask(Describe(0))
    seconds = time.perf_counter() - began
    actor.stop()
    return {"ticks": ticks, "us_per_tick": round(seconds / ticks * 1e6, 1)}


def run(schedules_n: int, every: float, seconds: float, overlap: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(SQLiteStore(Path(tmp) / "bench.db"), workflows=[Tick])
        starts = StartTimes()
        engine.add_commit_listener(starts)
        schedules = engine.schedules
        assert schedules is not None
        config = {
            "spec": {"every_seconds": every},
            "workflow_type": "bench_tick",
            "input": 1,
            "overlap_policy": overlap,
        }
        began = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(
                pool.map(
                    lambda i: schedules.create(config, schedule_id=f"b{i:05d}"), range(schedules_n)
                )
            )
        create_seconds = time.perf_counter() - began
        window_start = engine.clock.now() + timedelta(seconds=1)
        window_end = window_start + timedelta(seconds=seconds)
        time.sleep(seconds + 1 + 3)  # the window, plus time for the last burst to land
        schedules.stop()
        triggered = []
        skipped = 0
        for i in range(schedules_n):
            for event in engine.store.read_history(f"schedule:b{i:05d}"):
                if event.type == "ScheduleTriggered" and window_start <= event.fire_at < window_end:
                    triggered.append(event)
                elif event.type == "ScheduleSkipped" and window_start <= event.fire_at < window_end:
                    skipped += 1
        lags = [
            (starts.started[e.triggered_workflow_id] - e.fire_at).total_seconds() * 1000
            for e in triggered
            if e.triggered_workflow_id in starts.started
        ]
        recorded = [(e.recorded_at - e.fire_at).total_seconds() * 1000 for e in triggered]
        engine.shutdown()
    expected = schedules_n * int(seconds // every)
    return {
        "schedules": schedules_n,
        "every_s": every,
        "ticks_per_s": round(schedules_n / every, 1),
        "window_s": seconds,
        "overlap": overlap,
        "create_s": round(create_seconds, 2),
        "ticks_expected": expected,
        "ticks_started": len(lags),
        "ticks_skipped": skipped,
        "lag_p50_ms": statistics.median(lags) if lags else None,
        "lag_p90_ms": percentile(lags, 0.90) if lags else None,
        "lag_p99_ms": percentile(lags, 0.99) if lags else None,
        "lag_max_ms": max(lags) if lags else None,
        "recorded_p50_ms": statistics.median(recorded) if recorded else None,
        "recorded_p99_ms": percentile(recorded, 0.99) if recorded else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--overlap", default="skip", help="overlap policy of every schedule")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n, window = (20, 2.0) if args.smoke else (args.schedules, args.seconds)
    ceiling = engine_ceiling(100 if args.smoke else 2000)
    overhead = evaluator_overhead(200 if args.smoke else 5000)
    rows = [run(n, 1, window, args.overlap)]  # the target: every schedule every second
    if not args.smoke:
        rows.append(run(n, 5, window, args.overlap))  # the same schedules at 1/5 the rate
    print_table("Engine ceiling (no schedules)", [ceiling])
    print_table("Evaluator cost per tick (in-memory seams, no engine)", [overhead])
    print_table("Fire-time lag (SystemClock, SQLite file, in process)", rows)
    write_results("schedules", {"smoke": args.smoke, "engine_ceiling": ceiling, "lag": rows})


if __name__ == "__main__":
    main()
