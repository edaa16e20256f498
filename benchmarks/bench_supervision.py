"""Supervision costs: restart latency, and what one dynamic child costs in time and memory.

Restart latency is crash -> the child serving again: from injecting a crash
(as if a tell raised) to the new incarnation answering an ask. A dynamic
child's cost is the time to start it under a DynamicSupervisor and the RSS
it adds (VmRSS from /proc/self/status), next to a bare pykka actor.

    python benchmarks/bench_supervision.py            # 1,000 crashes, 5,000 children
    python benchmarks/bench_supervision.py --smoke    # a few seconds, for CI

Prints a table and writes benchmarks/results/supervision.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pykka

from supervision import ChildSpec, DynamicSupervisor, EventBus, EventKind, Strategy, Supervisor
from supervision.testing import crash

RESULTS = Path(__file__).resolve().parent / "results" / "supervision.json"


class Echo(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return message


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Restarts:
    """A subscriber that hands each RESTARTED event's ref to the waiting benchmark."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.refs: list[pykka.ActorRef[Any]] = []

    def __call__(self, event: Any) -> None:
        if event.kind is EventKind.RESTARTED:
            with self.condition:
                self.refs.append(event.ref)
                self.condition.notify_all()

    def next(self, seen: int) -> pykka.ActorRef[Any]:
        with self.condition:
            if not self.condition.wait_for(lambda: len(self.refs) > seen, timeout=10.0):
                raise TimeoutError("no restart within 10 s")
            return self.refs[seen]


def restart_latency(crashes: int, strategy: Strategy, siblings: int) -> dict[str, Any]:
    restarts = Restarts()
    specs = [ChildSpec(f"c{i}", Echo) for i in range(siblings)]
    sup = Supervisor.start(
        specs, strategy=strategy, max_restarts=crashes + 1, period=3600.0, events=EventBus(restarts)
    )
    target = f"c{siblings // 2}"
    ref = sup.proxy().child_ref(target).get()
    samples = []
    for n in range(crashes):
        started = time.perf_counter()
        crash(ref)
        ref = restarts.next(n * _restarted_per_crash(strategy, siblings))
        if strategy is not Strategy.ONE_FOR_ONE:  # the group restarts; wait for our child
            ref = sup.proxy().child_ref(target).get()
        ref.ask("ping")
        samples.append((time.perf_counter() - started) * 1000)
    sup.stop()
    return {
        "strategy": strategy.value,
        "children": siblings,
        "crashes": crashes,
        "median_ms": statistics.median(samples),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": max(samples),
    }


def _restarted_per_crash(strategy: Strategy, siblings: int) -> int:
    return {"one_for_one": 1, "one_for_all": siblings, "rest_for_one": siblings - siblings // 2}[
        strategy.value
    ]


def bare_pykka(children: int) -> dict[str, Any]:
    gc.collect()
    before = rss_kib()
    started = time.perf_counter()
    refs = [Echo.start() for _ in range(children)]
    refs[-1].ask("ping")
    elapsed = time.perf_counter() - started
    added = rss_kib() - before
    for ref in refs:
        ref.stop(block=False)
    for ref in refs:
        ref.actor_stopped.wait()
    return {
        "children": children,
        "start_ms_per_child": elapsed * 1000 / children,
        "rss_kib_per_child": added / children,
    }


def dynamic_children(children: int) -> dict[str, Any]:
    sup = DynamicSupervisor.start(max_restarts=100, period=1.0)
    proxy = sup.proxy()
    gc.collect()
    before = rss_kib()
    started = time.perf_counter()
    for i in range(children):
        proxy.start_child(ChildSpec(f"wf-{i}", Echo)).get()
    elapsed = time.perf_counter() - started
    added = rss_kib() - before
    started = time.perf_counter()
    for i in range(0, children, max(1, children // 1000)):
        proxy.child_ref(f"wf-{i}").get()
    lookups = len(range(0, children, max(1, children // 1000)))
    lookup_us = (time.perf_counter() - started) * 1e6 / lookups
    started = time.perf_counter()
    sup.stop()
    stop_s = time.perf_counter() - started
    return {
        "children": children,
        "start_ms_per_child": elapsed * 1000 / children,
        "rss_kib_per_child": added / children,
        "child_ref_lookup_us": lookup_us,
        "stop_all_s": stop_s,
    }


MEASURES = {"bare": bare_pykka, "dynamic": dynamic_children}


def in_fresh_process(measure: str, children: int) -> dict[str, Any]:
    """Run one memory measurement in its own interpreter, so freed memory is not reused."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", measure, "--children", str(children)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run (for CI)")
    parser.add_argument("--crashes", type=int, default=None)
    parser.add_argument("--children", type=int, default=None)
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(MEASURES[args.measure](args.children)))
        return
    crashes = args.crashes or (50 if args.smoke else 1000)
    children = args.children or (200 if args.smoke else 5000)

    latency = [
        restart_latency(crashes, Strategy.ONE_FOR_ONE, 5),
        restart_latency(max(10, crashes // 5), Strategy.ONE_FOR_ALL, 5),
        restart_latency(max(10, crashes // 5), Strategy.REST_FOR_ONE, 5),
    ]
    bare = in_fresh_process("bare", children)
    dynamic = in_fresh_process("dynamic", children)

    print(
        f"\nRestart latency: crash -> serving again ({platform.python_version()}, "
        f"{os.cpu_count()} CPUs)"
    )
    print(f"{'strategy':<14}{'children':>9}{'crashes':>9}{'median ms':>11}{'p99 ms':>9}")
    for row in latency:
        print(
            f"{row['strategy']:<14}{row['children']:>9}{row['crashes']:>9}"
            f"{row['median_ms']:>11.3f}{row['p99_ms']:>9.3f}"
        )
    print(f"\nCost per child ({children} children)")
    print(f"{'':<26}{'start ms':>10}{'RSS KiB':>10}")
    print(
        f"{'bare pykka actor':<26}{bare['start_ms_per_child']:>10.3f}"
        f"{bare['rss_kib_per_child']:>10.1f}"
    )
    print(
        f"{'DynamicSupervisor child':<26}{dynamic['start_ms_per_child']:>10.3f}"
        f"{dynamic['rss_kib_per_child']:>10.1f}"
    )
    print(
        f"child_ref lookup: {dynamic['child_ref_lookup_us']:.1f} us (an ask);"
        f" stopping all {children}: {dynamic['stop_all_s']:.3f} s"
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "smoke": args.smoke,
                "python": platform.python_version(),
                "pykka": "4.5",
                "cpus": os.cpu_count(),
                "restart_latency": latency,
                "bare_pykka": bare,
                "dynamic_children": dynamic,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
