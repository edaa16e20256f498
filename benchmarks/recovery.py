"""Workload 5, recovery: kill -9 an engine holding N parked workflows, restart, finish them.

Each workflow waits for a ``finish`` signal with a one-hour timeout, so it is
parked on a durable timer and a signal at once. Three processes:

1. ``--role populate`` opens an engine on a SQLite file, starts N workflows from
   many threads, waits until every one has committed its TimerStarted (parked),
   reports, and waits to be killed. The parent kills it with SIGKILL.
2. ``--role recover`` (a fresh process on the same file) times
   - ``open_s``: ``Engine.open`` returning (timers armed from their rows, the
     workflows in the wake index booted: none of these parked ones),
   - ``first_answer_s``: from the start until one workflow answered a query (it is
     rehydrated on demand: what a caller waits for after a restart),
   - ``ready_s``: from the start until every workflow answered a query (each one
     rehydrated by its query),
   - ``signals_s``: then a ``finish`` signal to each, from many threads, until
     every WorkflowCompleted has committed.

If a workflow cannot be reached after the restart, the result says so
(``failed``) together with the errors the engine logged most often.

    python -m benchmarks.recovery --workflows 2000      # on its own
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, workflow
from aionactors.core.events import Event
from benchmarks.common import REPO, run_json

THREADS = 64
"""Threads starting, querying and signalling workflows."""


@workflow.defn(name="parked_on_timer_and_signal")
class ParkedOnTimerAndSignal:
    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self) -> bool:
        return await workflow.wait_condition(lambda: self.finished, timeout=timedelta(hours=1))

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.query
    def waiting(self) -> bool:
        return not self.finished


class CommitCounter:
    """Counts committed events of one type; ``wait`` blocks until ``count`` have committed."""

    def __init__(self, event_type: str, count: int) -> None:
        self.event_type = event_type
        self.count = count
        self.seen = 0
        self._done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[Event]) -> None:
        matching = sum(1 for event in events if event.type == self.event_type)
        if matching:
            with self._lock:
                self.seen += matching
                if self.seen >= self.count:
                    self._done.set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)


def _ids(count: int) -> list[str]:
    return [f"parked-{index}" for index in range(count)]


def populate(db: Path, count: int) -> None:
    engine = Engine.open(
        f"sqlite:///{db}", workflows=[ParkedOnTimerAndSignal], max_resident=count + 100
    )
    parked = CommitCounter("TimerStarted", count)
    engine.add_commit_listener(parked)
    began = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(
            pool.map(
                lambda w: engine.start_workflow(ParkedOnTimerAndSignal, workflow_id=w), _ids(count)
            )
        )
    if not parked.wait(600):
        raise TimeoutError(f"only {parked.seen} of {count} workflows parked in 600 s")
    elapsed = time.perf_counter() - began
    report = {
        "workflows": count,
        "populate_s": round(elapsed, 3),
        "starts_per_s": round(count / elapsed, 1),
    }
    print(json.dumps(report), flush=True)
    time.sleep(3600)  # the parent kills us with SIGKILL


def recover(db: Path, count: int) -> dict[str, Any]:
    began = time.perf_counter()
    engine = Engine.open(
        f"sqlite:///{db}", workflows=[ParkedOnTimerAndSignal], max_resident=count + 100
    )
    opened = time.perf_counter() - began
    result: dict[str, Any] = {
        "workflows": count,
        "open_s": round(opened, 3),
        "resident_at_open": engine.residency.resident_count(),
    }
    ids = _ids(count)
    try:
        engine.query(ids[-1], "waiting")
        result["first_answer_s"] = round(time.perf_counter() - began, 3)
        with ThreadPoolExecutor(THREADS) as pool:
            waiting = list(pool.map(lambda w: engine.query(w, "waiting"), ids))
        ready = time.perf_counter() - began
        result |= {
            "ready_s": round(ready, 3),
            "all_waiting": all(waiting),
            "timers_armed": engine.timers.armed_count(),
        }
        completed = CommitCounter("WorkflowCompleted", count)
        engine.add_commit_listener(completed)
        signals_began = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda w: engine.signal(w, "finish"), ids))
        all_done = completed.wait(600)
        signalled = time.perf_counter() - signals_began
    except Exception as exc:  # reported, with what the engine logged, by the parent
        result["failed"] = f"{type(exc).__name__}: {exc}"
        return result
    finally:
        engine.shutdown()
    return result | {
        "signals_s": round(signalled, 3),
        "signal_to_complete_per_s": round(count / signalled, 1),
        "all_completed": all_done,
        "total_s": round(ready + signalled, 3),
    }


_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Unavailable|Conflict)\b: .+$")


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def common_errors(log: str, top: int = 3) -> list[str]:
    """The most frequent exception lines of a log, with their counts."""
    counts = Counter(
        _UUID.sub("<uuid>", line) for line in log.splitlines() if _ERROR_LINE.match(line)
    )
    return [f"{n:,} x {line[:160]}" for line, n in counts.most_common(top)]


def run(folder: Path, count: int, timeout: float = 1800.0) -> dict[str, Any]:
    """Populate, SIGKILL, recover: each step in its own process."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "recovery.db"
    command = [
        sys.executable,
        "-m",
        "benchmarks.recovery",
        "--db",
        str(db),
        "--workflows",
        str(count),
    ]
    populator = subprocess.Popen(
        [*command, "--role", "populate"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(timeout, populator.kill)  # a hung populate must not hang us
    watchdog.start()
    try:
        assert populator.stdout is not None
        line = populator.stdout.readline()
        if not line:
            raise RuntimeError(f"the populating engine exited with {populator.wait()}")
        populated: dict[str, Any] = json.loads(line)
    finally:
        watchdog.cancel()
        os.kill(populator.pid, signal.SIGKILL)
        populator.wait()
    recovered, log = run_json([*command, "--role", "recover"], "recovery", timeout)
    return {
        "killed_with": "SIGKILL",
        **populated,
        **recovered,
        "logged_errors": common_errors(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=["populate", "recover"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.role == "populate":
        populate(args.db, args.workflows)
    elif args.role == "recover":
        print(json.dumps(recover(args.db, args.workflows)))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run(Path(tmp), args.workflows), indent=2))


if __name__ == "__main__":
    main()
