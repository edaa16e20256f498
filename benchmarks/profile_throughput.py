"""Where workload 1's CPU goes: the concurrent throughput run under yappi (CPU clock, all threads).

    .venv/bin/python -m benchmarks.profile_throughput --count 2000

yappi's hooks slow the run down (about half the throughput), but they charge
CPU time to the thread and function that spent it, which a sampling profiler
cannot do reliably with thousands of actor threads. Prints CPU by thread role,
by component (the module a function lives in) and the costliest functions.
``--mode sequential`` and ``--empty`` profile the other rows; run it with
``PYTHONPATH`` at two checkouts (``git worktree add /tmp/old <commit>``) to compare
them: call counts per workflow do not depend on how busy the machine is.
For a flame graph instead (wall clock, sampled):

    .venv/bin/py-spy record -o profile.svg -- .venv/bin/python -m benchmarks.aion_workload \\
        --folder /tmp/bench --mode concurrent --count 2000
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yappi

from benchmarks.workloads import STARTERS, throughput

ROLES = {
    ("Dispatcher._work", "dispatcher"): "workflow actors (dispatcher threads)",
    ("DynamicSupervisor._actor_loop", "pykka"): "workflow supervisor (actor starts/stops)",
    ("GroupCommitWriter._loop", "writer"): "group-commit writer thread",
    ("ActivityExecutor._run_sync", "activities"): "activity executor threads",
    ("start", "benchmarks/workloads"): "starter threads (start_workflow)",
}
"""(function, a fragment of its module) of each thread kind's entry point."""

_COMPONENTS = (
    ("aionactors/store/", "aionactors.store"),
    ("aionactors/engine/writer", "aionactors.engine.writer"),
    ("aionactors/engine/", "aionactors.engine"),
    ("aionactors/workflow/", "aionactors.workflow (driver, replay)"),
    ("aionactors/core/", "aionactors.core"),
    ("/supervision/", "supervision"),
    ("pykka/", "pykka"),
    ("eventsourcing/", "eventsourcing"),
    ("pydantic", "pydantic"),
    ("threading.py", "threading, queue, futures (Python side)"),
    ("queue.py", "threading, queue, futures (Python side)"),
    ("concurrent/futures", "threading, queue, futures (Python side)"),
    ("contextlib.py", "contextlib"),
)


_SQLITE_STATEMENTS = (
    "<method 'execute' of 'sqlite3.Cursor' objects>",
    "<method 'executemany' of 'sqlite3.Cursor' objects>",
)


def component(module: str, name: str) -> str:
    if "pydantic_core" in name:
        return "pydantic"
    for fragment, label in _COMPONENTS:
        if fragment in module:
            return label
    if "sqlite3" in name:
        return "sqlite3 C calls"
    if "_thread" in name or "lock" in name:
        return "lock acquire/release (C)"
    if module in ("builtins", "_thread"):
        return "builtins (isinstance, next, dict, ...)"
    if module == "<string>":
        return "generated __init__ (dataclasses)"
    return "other"


def _where(stat: Any) -> str:
    module = str(stat.module).split("site-packages/")[-1].split("/lib/python3.11/")[-1]
    return f"{stat.name} ({module.replace(str(Path.cwd()) + '/', '')}:{stat.lineno})"


def profile(
    count: int, starters: int, *, concurrent: bool = True, empty: bool = False
) -> dict[str, Any]:
    yappi.set_clock_type("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        yappi.start(builtins=True, profile_threads=True)
        try:
            row = throughput(
                Path(tmp), count, concurrent=concurrent, starters=starters, empty=empty
            )
        finally:
            yappi.stop()
    stats = list(yappi.get_func_stats())
    total = sum(s.tsub for s in stats) or 1.0
    roles: Counter[str] = Counter()
    for stat in stats:
        for (name, fragment), role in ROLES.items():
            if stat.name == name and fragment in str(stat.module):
                roles[role] += stat.ttot
    components: Counter[str] = Counter()
    for stat in stats:
        components[component(str(stat.module), stat.name)] += stat.tsub
    costliest = sorted(stats, key=lambda s: -s.tsub)[:25]
    calls = {s.name: s.ncall for s in stats}
    return {
        "run": row,
        "cpu_s": round(total, 2),
        "cpu_ms_per_workflow": round(total * 1000 / count, 2),
        "roles": {k: round(v / total, 3) for k, v in roles.most_common()},
        "components": {k: round(v / total, 3) for k, v in components.most_common()},
        "self_time": [(_where(s), round(s.tsub / total, 3), s.ncall) for s in costliest],
        "per_workflow": {
            "writer appends": calls.get("GroupCommitWriter.append", 0) / count,
            "Condition objects": calls.get("Condition.__init__", 0) / count,
            "threads started": calls.get("start_new_thread", 0) / count,
            "SQL statements": sum(n for name, n in calls.items() if name in _SQLITE_STATEMENTS)
            / count,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--starters", type=int, default=STARTERS)
    parser.add_argument("--mode", choices=["concurrent", "sequential"], default="concurrent")
    parser.add_argument("--empty", action="store_true", help="workflows with no activities")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = profile(
        args.count, args.starters, concurrent=args.mode == "concurrent", empty=args.empty
    )
    run = result["run"]
    print(
        f"{args.count} workflows, {run['workflows_per_s']} wf/s under the profiler;"
        f" {result['cpu_s']} s CPU = {result['cpu_ms_per_workflow']} ms per workflow"
    )
    for title, shares in (
        ("CPU by thread role (inclusive)", result["roles"]),
        ("CPU by component (self time)", result["components"]),
    ):
        print(f"\n{title}")
        for name, share in shares.items():
            print(f"  {share:6.1%}  {name}")
    print("\nCostliest functions (self time, calls)")
    for where, share, calls in result["self_time"]:
        print(f"  {share:6.1%}  {calls:>8,}  {where}")
    print("\nPer workflow")
    for name, value in result["per_workflow"].items():
        print(f"  {value:8.1f}  {name}")


if __name__ == "__main__":
    main()
