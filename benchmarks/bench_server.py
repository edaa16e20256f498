"""Server benchmarks: HTTP start+signal+result round trips; WebSocket commit-to-delivery latency.

    python benchmarks/bench_server.py            # full run (about a minute)
    python benchmarks/bench_server.py --smoke    # tiny run, as CI does

The server runs in its own process (this script in ``--serve-role``) on a SQLite
file, so client work never competes with it for the GIL. Its commit listener
stamps every committed event (wall clock, right after the commit); the clients
stamp every frame as they read it; latency = read - commit, over every
(subscriber, event) pair. Events are sent one at a time: the next signal goes
out once every subscriber has the previous event, so this is the latency of one
event in flight, not of a saturated pipe. The clients share one process, so
with 500 subscribers the figure includes the client's own work to read 500
frames per event.

Delivery rate: the same number of firehose subscribers watch while 16 clients
start ``--burst`` short workflows as fast as the server takes them; events/s
delivered = every frame every subscriber read / (first start to last frame).
A subscriber that falls behind its buffer is cut off with ``lagged`` (counted),
as the protocol says; it would resume from its cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from aionactors import workflow
from benchmarks.common import print_table, write_results
from benchmarks.workloads import ParkedForever
from benchmarks.ws_readers import StreamReaders


@workflow.defn(name="bench_greeter")
class BenchGreeter:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello, {name}"


# ---- server role ---------------------------------------------------------------------------


def serve_role(db: Path, stamps_path: Path) -> None:
    """Engine + app; on SIGTERM write the commit stamps and exit."""
    from aiohttp import web

    from aionactors import Engine
    from transports import ServerConfig, create_app

    async def main() -> None:
        config = ServerConfig(outbound_buffer=256)
        # As `aionactors serve` runs: engine calls on a pool of config.engine_threads.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(config.engine_threads, thread_name_prefix="aionactors-call")
        )
        engine = Engine.open(f"sqlite:///{db}", workflows=[BenchGreeter, ParkedForever])
        stamps: dict[str, float] = {}

        def stamp(events: Any) -> None:
            now = time.time()
            for event in events:
                stamps[f"{event.workflow_id}:{event.seq}"] = now

        engine.add_commit_listener(stamp)
        app = create_app(engine, config)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"http://{host}:{port}", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        engine.shutdown()
        stamps_path.write_text(json.dumps(stamps))

    asyncio.run(main())


class Server:
    def __init__(self, folder: Path) -> None:
        self.stamps_path = folder / "stamps.json"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-role", str(folder / "bench.db"),
             str(self.stamps_path)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"server did not start: {self.url!r}")

    def stop(self) -> dict[str, float]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        stamps: dict[str, float] = json.loads(self.stamps_path.read_text())
        return stamps


# ---- clients ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def round_trips(url: str, clients: int, total: int) -> dict[str, Any]:
    latencies: list[float] = []
    remaining = total

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with session.post(
                "/workflows/start", json={"workflow_type": "parked_forever"}
            ) as response:
                workflow_id = (await response.json())["workflow_id"]
            async with session.post(
                "/workflows/signal", json={"workflow_id": workflow_id, "signal_name": "finish"}
            ) as response:
                assert response.status == 200, await response.text()
            async with session.post(
                "/workflows/result", json={"workflow_id": workflow_id, "wait_ms": 30_000}
            ) as response:
                body = await response.json()
                assert body["status"] == "Completed", body
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "benchmark": f"start+signal+result, {clients} concurrent clients",
        "count": total,
        "seconds": round(elapsed, 3),
        "per_s": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def fan_out(
    url: str, subscribers: int, events: int
) -> tuple[str, list[list[tuple[int, float]]]]:
    """Subscribers on one workflow; returns its id and each subscriber's (seq, read time)."""
    async with aiohttp.ClientSession(url) as session:
        async with session.post(
            "/workflows/start", json={"workflow_type": "parked_forever"}
        ) as response:
            workflow_id = (await response.json())["workflow_id"]
        readers = StreamReaders(subscribers, key=lambda frame: frame["event"]["seq"])
        await readers.attach(
            url, {"per_workflow": {"workflow_id": workflow_id, "resume_from_seq": 1}}
        )

        def all_have(seq: int) -> Callable[[], bool]:
            return lambda: min((log[-1][0] if log else 0) for log in readers.stamped) >= seq

        await readers.until(all_have(2), 60)  # attached: the replayed start is everywhere
        for n in range(events):
            async with session.post(
                "/workflows/signal",
                json={"workflow_id": workflow_id, "signal_name": "note", "payload": n},
            ) as response:
                assert response.status == 200
            await readers.until(all_have(3 + n), 60)
        async with session.post(
            "/workflows/signal", json={"workflow_id": workflow_id, "signal_name": "finish"}
        ) as response:
            assert response.status == 200
        await readers.ended(60)
    return workflow_id, readers.stamped


async def delivery_rate(url: str, subscribers: int, workflows: int) -> dict[str, Any]:
    """Firehose subscribers while 16 clients start short workflows flat out."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(url, connector=connector) as session:
        readers = StreamReaders(subscribers)
        await readers.attach(url, {"firehose": {"namespace": "default"}})
        await asyncio.sleep(0.5)  # every subscription attached before the first start
        remaining = iter(range(workflows))

        async def produce() -> None:
            for _ in remaining:
                body = {"workflow_type": "bench_greeter", "input": "x"}
                async with session.post("/workflows/start", json=body) as response:
                    assert response.status == 200, await response.text()

        began = time.time()
        await asyncio.gather(*(produce() for _ in range(16)))
        await readers.settle()  # until no subscriber has read anything for a second
        await readers.close()
    elapsed = readers.last_read - began
    frames = readers.frames
    delivered = sum(frames)
    return {
        "benchmark": f"delivery rate, {subscribers} subscriber(s)",
        "count": delivered,
        "seconds": round(elapsed, 3),
        "per_s": round(delivered / elapsed, 1),
        "p50_ms": None,
        "p99_ms": None,
        "events": max(frames),
        "complete_subscribers": sum(1 for n in frames if n == max(frames)),
        "lagged": readers.lagged,
    }


def latency_row(
    subscribers: int, events: int, workflow_id: str, received: list[list[tuple[int, float]]],
    stamps: dict[str, float],
) -> dict[str, Any]:  # fmt: skip
    latencies = [
        (read_at - stamps[f"{workflow_id}:{seq}"]) * 1000
        for log in received
        for seq, read_at in log
        if seq >= 3 and f"{workflow_id}:{seq}" in stamps  # live events only, not the replay
    ]
    return {
        "benchmark": f"commit-to-delivery, {subscribers} subscriber(s)",
        "count": len(latencies),
        "seconds": None,
        "per_s": None,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--round-trips", type=int, default=3000)
    parser.add_argument("--events", type=int, default=200, help="events per latency run")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 500])
    parser.add_argument("--burst", type=int, default=500, help="workflows per delivery-rate run")
    parser.add_argument("--serve-role", nargs=2, metavar=("DB", "STAMPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_role:
        serve_role(Path(args.serve_role[0]), Path(args.serve_role[1]))
        return
    if args.smoke:
        args.round_trips, args.events, args.subscribers, args.burst = 64, 10, [1, 20], 20

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            rows.append(asyncio.run(round_trips(server.url, args.clients, args.round_trips)))
            runs = [
                (count, *asyncio.run(fan_out(server.url, count, args.events)))
                for count in args.subscribers
            ]
            rates = [
                asyncio.run(delivery_rate(server.url, count, args.burst))
                for count in args.subscribers
            ]
        finally:
            stamps = server.stop()
        rows += [latency_row(count, args.events, wid, got, stamps) for count, wid, got in runs]
        rows += rates
    print_table("aionactors server (HTTP + WebSocket, SQLite, server in its own process)", rows)
    parameters = {k: v for k, v in vars(args).items() if k != "serve_role"}
    write_results("server", {"parameters": parameters | {"cores": os.cpu_count()}, "results": rows})


if __name__ == "__main__":
    main()
