"""The throughput workload on DBOS Transact, for side-by-side measurement.

Runs with the DBOS virtual environment's interpreter (``benchmarks/.venv-dbos``),
never with the project's: DBOS pins its own SQLAlchemy. From this repository it
imports only the standard-library ``cpu_usage.py`` beside it (the same CPU report as
the aionactors run), and it prints one JSON object on its last line of stdout.

    benchmarks/.venv-dbos/bin/python benchmarks/dbos_workload.py \\
        --db /tmp/dbos.sqlite --mode concurrent --count 2000 --starters 64

The workflow is the one the aionactors run uses: three sequential steps, each
returning ``n + 1``. The SQLite file gets the durability settings of the
aionactors store (WAL, ``synchronous=FULL``) on every connection; the settings
actually in force are read back on DBOS's own connections and reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cpu_usage import cpu_report, usage  # a sibling file, standard library only
from dbos import DBOS, DBOSConfig, SetWorkflowID
from sqlalchemy import event

_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
_seen_settings: dict[str, str] = {}


@event.listens_for(sa.engine.Engine, "connect")
def _durability(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection DBOS opens: WAL and synchronous=FULL, as aionactors runs."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=FULL")
    journal = dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]
    _seen_settings["journal_mode"] = str(journal).upper()
    _seen_settings["synchronous"] = _SYNCHRONOUS.get(synchronous, str(synchronous))


@DBOS.step()
def step(n: int) -> int:
    return n + 1


@DBOS.workflow()
def three_steps(n: int) -> int:
    n = step(n)
    n = step(n)
    return step(n)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def concurrent(count: int, starters: int) -> tuple[float, list[float]]:
    """``count`` workflows started from ``starters`` threads; each timed start to completion."""
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def start(index: int) -> None:
        began = time.perf_counter()
        handle = DBOS.start_workflow(three_steps, index)

        def finished(_future: Any) -> None:
            with lock:
                latencies.append(time.perf_counter() - began)
                if len(latencies) == count:
                    done.set()

        future = getattr(handle, "future", None)
        if future is not None:  # an in-process run: its future resolves after the output commits
            future.add_done_callback(finished)
        else:
            handle.get_result()
            finished(None)

    began = time.perf_counter()
    with ThreadPoolExecutor(starters) as pool:
        list(pool.map(start, range(count)))
    if not done.wait(600):
        raise TimeoutError(f"only {len(latencies)} of {count} DBOS workflows finished in 600 s")
    return time.perf_counter() - began, latencies


def sequential(count: int) -> tuple[float, list[float]]:
    """One workflow at a time, called directly (DBOS's fastest path for a single caller)."""
    latencies: list[float] = []
    began = time.perf_counter()
    for index in range(count):
        started = time.perf_counter()
        with SetWorkflowID(f"sequential-{index}"):
            three_steps(index)
        latencies.append(time.perf_counter() - started)
    return time.perf_counter() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite file (created)")
    parser.add_argument("--mode", choices=["concurrent", "sequential"], required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--starters", type=int, default=64)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # DBOS logs to stdout; only the JSON line goes there

    config: DBOSConfig = {
        "name": "bench",
        "system_database_url": f"sqlite:///{args.db}",
        "log_level": "ERROR",
    }
    DBOS(config=config)
    DBOS.launch()
    before = usage()
    try:
        if args.mode == "concurrent":
            elapsed, latencies = concurrent(args.count, args.starters)
        else:
            elapsed, latencies = sequential(args.count)
    finally:
        DBOS.destroy()
    result = {
        "engine": "dbos",
        "version": version("dbos"),
        "mode": args.mode,
        "workflows": args.count,
        "starters": args.starters if args.mode == "concurrent" else 1,
        "seconds": round(elapsed, 3),
        "workflows_per_s": round(args.count / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "sqlite": {"version": sqlite3.sqlite_version, **_seen_settings},
        **cpu_report(before, elapsed),
    }
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
