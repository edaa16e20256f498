"""Workload 6, residency: what N parked, evicted workflows cost one node in memory and disk.

Runs in a fresh process (``--role measure``) so the resident set is this
workload's alone. The engine keeps at most ``max_resident`` actors, so nearly
all of the N workflows (each waiting for a signal) are evicted: they live in
the store, not in memory. A warm-up batch of workflows is started and evicted
first, so the baseline already holds the engine's fixed costs (threads, code
paths, connection caches); then N more start from many threads, every actor is
evicted by a sweep, the garbage collector runs, and

- ``rss_bytes_per_workflow`` is (VmRSS after - VmRSS at baseline) / N, and
  ``rss_marginal_bytes_per_workflow`` the slope over the second half of the
  starts (caches that fill up and stop, like SQLite's page cache, drop out),
- ``store_bytes_per_workflow`` is the SQLite file after the engine shut down
  (WAL checkpointed) divided by all workflows in it.

    python -m benchmarks.residency --workflows 100000
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine
from benchmarks.common import run_json
from benchmarks.workloads import ParkedForever

THREADS = 64
MAX_RESIDENT = 1000
WARM_UP = 2000
"""Workflows started and evicted before the baseline is taken."""


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _settled_rss_kib() -> int:
    gc.collect()
    time.sleep(0.5)  # let stopped actor threads exit and release their stacks
    gc.collect()
    return _status_kib("VmRSS")


def measure(folder: Path, count: int, warm_up: int = WARM_UP) -> dict[str, Any]:
    db = folder / "residency.db"
    engine = Engine.open(
        f"sqlite:///{db}",
        workflows=[ParkedForever],
        max_resident=MAX_RESIDENT,
        idle_seconds=0,
    )

    def start_all(prefix: str, how_many: int) -> float:
        began = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(
                pool.map(
                    lambda i: engine.start_workflow(ParkedForever, workflow_id=f"{prefix}-{i}"),
                    range(how_many),
                )
            )
        elapsed = time.perf_counter() - began
        engine.residency.sweep()
        return elapsed

    start_all("warm", warm_up)
    baseline = _settled_rss_kib()
    elapsed = 0.0
    checkpoints: list[tuple[int, int]] = []  # (workflows started, settled VmRSS KiB)
    quarter = max(count // 4, 1)
    for first in range(0, count, quarter):
        elapsed += start_all(f"parked-{first}", min(quarter, count - first))
        checkpoints.append((min(first + quarter, count), _settled_rss_kib()))
    evicted = engine.residency.resident_count() == 0
    after = checkpoints[-1][1]
    peak = _status_kib("VmHWM")
    running = engine.count_workflows(status="Running")
    engine.shutdown()
    size = sum(path.stat().st_size for path in folder.glob("residency.db*"))
    total = count + warm_up
    # The second half's slope: what one more parked workflow costs once caches are full.
    middle = next(point for point in checkpoints if point[0] >= count // 2)
    marginal = (after - middle[1]) * 1024 / max(count - middle[0], 1)
    return {
        "workflows": count,
        "warm_up": warm_up,
        "max_resident": MAX_RESIDENT,
        "starts_per_s": round(count / elapsed, 1),
        "all_evicted": evicted,
        "running_in_store": running,
        "rss_baseline_mib": round(baseline / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "rss_peak_mib": round(peak / 1024, 1),
        "rss_bytes_per_workflow": round((after - baseline) * 1024 / count, 1),
        "rss_marginal_bytes_per_workflow": round(marginal, 1),
        "rss_mib_at": [[n, round(kib / 1024, 1)] for n, kib in checkpoints],
        "store_bytes": size,
        "store_bytes_per_workflow": round(size / total, 1),
    }


def run(
    folder: Path, count: int, warm_up: int = WARM_UP, timeout: float = 3600.0
) -> dict[str, Any]:
    """Measure in a fresh interpreter, so nothing else this suite did is in the resident set."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.residency", "--role", "measure"]
    command += ["--folder", str(folder), "--workflows", str(count), "--warm-up", str(warm_up)]
    result, _ = run_json(command, "residency run", timeout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflows", type=int, default=100_000)
    parser.add_argument("--warm-up", type=int, default=WARM_UP)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.role == "measure":
        print(json.dumps(measure(args.folder, args.workflows, args.warm_up)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), args.workflows, args.warm_up), indent=2))


if __name__ == "__main__":
    main()
