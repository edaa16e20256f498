"""Cluster benchmarks: 3-activity workflows/s on 1, 2 and 3 `aionactors serve --cluster`
nodes, and failover time after a SIGKILL.

    python benchmarks/bench_cluster.py            # full run
    python benchmarks/bench_cluster.py --smoke    # tiny run, as CI does

Each row runs its nodes on a fresh PostgreSQL database (``AIONACTORS_TEST_POSTGRES``,
default postgresql://postgres@127.0.0.1:5432/postgres names the server), with the
default lease settings (64 shards, 3 s leases renewed every 0.5 s). The client keeps
``CONCURRENCY`` (32) workflows in flight per node, and starts
each workflow through one node (round robin; a start without an id lands in a shard of
the node that receives it) and waits for its result through the same node
(``same_node``), or through the next node, which forwards it to the owner
(``result_forwarded``: what a client that ignores ownership sees).

Embedded: an ``Engine.open(postgresql://...)`` node beside one served node; each
workflow is started and its result awaited from the embedded engine, on its own shards
(in-process) and on the served node's (forwarded through its listener to the owner).

Failover: with every node up and balanced, one node is SIGKILLed; the time is from the
kill to the result of a new workflow whose id lies in a shard the killed node owned,
started through a survivor (lease expiry + adoption + recovery + the run itself). The
killed node is then restarted under the same id, rejoins and takes its share back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import psycopg

from aionactors import Engine
from aionactors.cluster import ClusterSettings, LeaseTuning, ShardMap
from benchmarks.common import print_table, write_results
from benchmarks.workloads import percentile

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get(
    "AIONACTORS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FLOW = "LocalThree"
CONCURRENCY = 32
"""Workflows in flight per node: a row of N nodes is offered N times this, so that each
row measures its nodes busy (32 in all would leave each of three nodes a third of it)."""
SHARDS = LeaseTuning().shard_count


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"aionactors_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN_DSN.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Node:
    """One `aionactors serve` process: a cluster node, or (``cluster=False``) a lone server."""

    def __init__(self, db: str, node_id: str, *, cluster: bool = True) -> None:
        self.node_id = node_id
        command = [sys.executable, "-m", "aionactors.cli", "serve", "--db", db,
                   "--port", "0", "--node-id", node_id,
                   "--load", "benchmarks.worker_flows"]  # fmt: skip
        command.append("--cluster" if cluster else "--no-cluster")
        # The node's log, for why it did not start; open for as long as the node runs.
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.errors, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("aionactors listening on http://"):
            self.process.wait(30)
            self.errors.seek(0)
            log = self.errors.read()[-2000:]
            raise RuntimeError(f"node {node_id} did not start: {line!r}\n{log}")
        self.url = line.rsplit(" ", 1)[-1]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


async def _json(session: aiohttp.ClientSession, url: str, path: str, body: Any = None) -> Any:
    method = session.get if body is None else session.post
    kwargs = {} if body is None else {"json": body}
    async with method(url + path, **kwargs) as response:
        answer = await response.json()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {answer}")
        return answer


async def shares(session: aiohttp.ClientSession, url: str) -> dict[str, list[int]]:
    cluster = await _json(session, url, "/cluster")
    return {node["node_id"]: node["owned_shards"] for node in cluster["nodes"]}


async def await_balance(session: aiohttp.ClientSession, nodes: list[Node], *others: str) -> None:
    """Until every live node (``nodes``, and those named ``others``: an embedded one) owns
    its fair share and every shard is owned."""
    names = [node.node_id for node in nodes] + list(others)
    fair = {SHARDS // len(names), -(-SHARDS // len(names))}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        owned = await shares(session, nodes[0].url)
        counts = [len(owned.get(name, [])) for name in names]
        if sum(counts) == SHARDS and set(counts) <= fair:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the nodes did not balance their shards within 120 s")


async def run_one(session: aiohttp.ClientSession, start_url: str, result_url: str,
                  workflow_id: str | None = None) -> None:  # fmt: skip
    body: dict[str, Any] = {"workflow_type": FLOW, "input": 0}
    if workflow_id is not None:
        body["workflow_id"] = workflow_id
    started = await _json(session, start_url, "/workflows/start", body)
    answer = await _json(session, result_url, "/workflows/result",
                         {"workflow_id": started["workflow_id"], "wait_ms": 120000})  # fmt: skip
    if answer.get("status") != "Completed" or answer.get("result") != 3:
        raise RuntimeError(f"workflow ended {answer}")


async def throughput(nodes: list[Node], count: int, hop: int, balance: bool = True) -> float:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        if balance:
            await await_balance(session, nodes)
        in_flight = CONCURRENCY * len(nodes)
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                await run_one(session, nodes[i % len(nodes)].url,
                              nodes[(i + hop) % len(nodes)].url)  # fmt: skip

        await asyncio.gather(*(one(i) for i in range(min(count, in_flight))))  # warm up
        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - began)


async def failover(db: str, nodes: list[Node], victim_index: int) -> float:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        await await_balance(session, nodes)
        victim = nodes[victim_index]
        survivor = nodes[(victim_index + 1) % len(nodes)]
        await asyncio.sleep(1.0)  # a tick or two after balance: every view agrees
        victim_shards = set((await shares(session, survivor.url))[victim.node_id]) & set(
            (await shares(session, victim.url))[victim.node_id]
        )
        shard_map = ShardMap(SHARDS)
        workflow_id = next(
            candidate for candidate in (f"failover-{uuid.uuid4().hex}" for _ in range(10_000))
            if shard_map.shard_of(candidate) in victim_shards
        )  # fmt: skip
        victim.kill()
        killed = time.perf_counter()
        await run_one(session, survivor.url, survivor.url, workflow_id)
        seconds = time.perf_counter() - killed
    nodes[victim_index] = Node(db, victim.node_id)  # rejoins under the same id
    return seconds


def embedded_calls(count: int) -> list[dict[str, Any]]:
    """Start-to-result latency from an embedded node, on its own shards and on another's."""
    rows: list[dict[str, Any]] = []
    with fresh_database() as db:
        served = Node(db, "served")
        engine = Engine.open(db, load_modules=["benchmarks.worker_flows"],
                             cluster=ClusterSettings(node_id="embedded"))  # fmt: skip
        try:
            asyncio.run(_balanced(served, "embedded"))
            for where, owned in (("own shards (in-process)", True),
                                 ("another node's (forwarded)", False)):  # fmt: skip
                ids = (f"embedded-{uuid.uuid4().hex}" for _ in range(100 * count))
                chosen = [w for w in ids if engine.node.leases.owns(w) == owned][:count]
                starts, runs = [], []
                for workflow_id in chosen:
                    began = time.perf_counter()
                    handle = engine.start_workflow(FLOW, 0, workflow_id=workflow_id)
                    started = time.perf_counter()
                    if handle.result(timeout=60) != 3:
                        raise RuntimeError(f"{workflow_id} did not return 3")
                    starts.append(started - began)
                    runs.append(time.perf_counter() - began)
                rows.append({"shards": where, "workflows": len(chosen),
                             "start_p50_ms": _ms(starts, 0.50), "start_p99_ms": _ms(starts, 0.99),
                             "start_to_result_p50_ms": _ms(runs, 0.50)})  # fmt: skip
        finally:
            engine.shutdown()
            served.stop()
    return rows


async def _balanced(node: Node, *others: str) -> None:
    async with aiohttp.ClientSession() as session:
        await await_balance(session, [node], *others)


def _ms(samples: list[float], fraction: float) -> float:
    return round(1000 * percentile(samples, fraction), 2)


def measure(count: int, node_counts: list[int], kills: int) -> tuple[list[dict], list[float]]:
    rows: list[dict[str, Any]] = []
    failovers: list[float] = []
    with fresh_database() as db:
        lone = Node(db, "lone", cluster=False)
        try:
            rate = asyncio.run(throughput([lone], count, hop=0, balance=False))
        finally:
            lone.stop()
        rows.append({"nodes": "lone server (no --cluster)", "workflows": count,
                     "same_node_per_s": rate, "result_forwarded_per_s": None})  # fmt: skip
    for n in node_counts:
        with fresh_database() as db:
            nodes = [Node(db, f"node-{i + 1}") for i in range(n)]
            try:
                local = asyncio.run(throughput(nodes, count, hop=0))
                forwarded = asyncio.run(throughput(nodes, count, hop=1))
                rows.append({"nodes": n, "workflows": count, "same_node_per_s": local,
                             "result_forwarded_per_s": forwarded if n > 1 else None})  # fmt: skip
                if n == max(node_counts) and n > 1:
                    for k in range(kills):
                        failovers.append(asyncio.run(failover(db, nodes, k % n)))
            finally:
                for node in nodes:
                    node.stop()
    return rows, failovers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run (for CI)")
    parser.add_argument("--workflows", type=int, help="workflows per row")
    parser.add_argument("--kills", type=int, help="failovers measured (median reported)")
    args = parser.parse_args()
    count = args.workflows or (20 if args.smoke else 300)
    kills = args.kills or (1 if args.smoke else 5)
    node_counts = [1, 2] if args.smoke else [1, 2, 3]
    rows, failovers = measure(count, node_counts, kills)
    embedded = embedded_calls(10 if args.smoke else 200)
    median = statistics.median(failovers) if failovers else None
    print_table(f"Cluster ({count} three-activity workflows per row, {SHARDS} shards)", rows)
    print_table("An embedded node beside a served one, one workflow at a time", embedded)
    print_table(
        f"Failover after SIGKILL (lease {LeaseTuning().lease_seconds:g} s)",
        [{"kills": len(failovers), "median_s": median,
          "min_s": min(failovers, default=None), "max_s": max(failovers, default=None)}],
    )  # fmt: skip
    write_results("cluster", {
        "smoke": args.smoke, "workflows": count, "shards": SHARDS,
        "lease_seconds": LeaseTuning().lease_seconds, "rows": rows, "embedded": embedded,
        "failover_seconds": failovers, "failover_median_seconds": median,
    })  # fmt: skip


if __name__ == "__main__":
    main()
