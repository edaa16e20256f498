"""Stream soak: N firehose subscribers that keep reading while workflows start at a fixed rate.

    python benchmarks/bench_soak_stream.py                      # 1,000 subscribers, 200/s, 10 min
    python benchmarks/bench_soak_stream.py --subscribers 1000 --rate 200 --seconds 120
    python benchmarks/bench_soak_stream.py --smoke              # tiny run, as CI does

The server (engine on a SQLite file + the aiohttp app, as ``aionactors serve`` runs
them) is its own process (this script in ``--serve-role``), so the clients never
compete with it for the GIL; they still share the machine's cores. Its positioned
commit listener stamps every event's position (wall clock, right after the commit);
a sample of subscribers stamps every frame as it reads it, so commit-to-delivery =
read - commit, per (sampled subscriber, event). The others only count frames (no
JSON parse), so the clients cost as little as a client can. Starts are open-loop:
one POST /workflows/start every 1/rate s whatever the answers do; start latency is
the client's round trip. The server's RSS is sampled every few seconds; CPU per
server thread (from /proc) says where its time goes, and ``--profile`` adds a
cProfile of the event-loop thread. A subscriber cut off with ``lagged`` is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from aionactors import workflow
from benchmarks.common import print_table, write_results
from benchmarks.ws_readers import StreamReaders

SAMPLED = 20
"""Subscribers that stamp every frame (the others only count)."""
FIREHOSE = {"firehose": {"namespace": "default"}}
TICKS = os.sysconf("SC_CLK_TCK")


@workflow.defn(name="soak_greeter")
class SoakGreeter:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello, {name}"


# ---- server role ---------------------------------------------------------------------------


def serve_role(db: Path, out: Path, buffer_bytes: int, profile: bool) -> None:
    """Engine + app; on SIGTERM write the commit stamps (and the profile) and exit."""
    from aiohttp import web

    from aionactors import Engine
    from transports import ServerConfig, create_app

    async def main() -> None:
        engine = Engine.open(f"sqlite:///{db}", workflows=[SoakGreeter])
        stamps: dict[int, float] = {}

        def stamp(committed: Any) -> None:
            now = time.time()
            for event in committed:
                stamps[event.position] = now

        engine.add_positioned_commit_listener(stamp)
        config = ServerConfig(outbound_buffer_bytes=buffer_bytes)
        app = create_app(engine, config)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"http://{host}:{port}", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        await stop.wait()
        report = ""
        if profiler is not None:
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
            report = text.getvalue()
        threads = thread_cpu(os.getpid())
        await runner.cleanup()
        engine.shutdown()
        out.write_text(json.dumps({"stamps": stamps, "threads": threads, "profile": report}))

    asyncio.run(main())


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) per Python thread name (digits dropped, so a pool's
    threads add up), from /proc; threads Python does not know are "other"."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    seconds: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / TICKS
        name = re.sub(r"[-_ (]*\d+[)]?", "", names.get(int(task.name), "other"))
        seconds[name] = round(seconds.get(name, 0.0) + used, 2)
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, folder: Path, buffer_bytes: int, profile: bool) -> None:
        self.out = folder / "server.json"
        command = [sys.executable, __file__, "--serve-role", str(folder / "soak.db"),
                   str(self.out), str(buffer_bytes), "1" if profile else "0"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"server did not start: {self.url!r}")

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(120)
        result: dict[str, Any] = json.loads(self.out.read_text())
        return result


# ---- clients ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def probe(url: str, rate: float, seconds: float) -> dict[str, Any]:
    """The measuring client, in a process of its own so that the bulk readers' work does
    not delay it: ``SAMPLED`` stamping subscribers and the open-loop starter."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
        watchers = StreamReaders(SAMPLED, key=lambda frame: frame["position"])
        await watchers.attach(url, FIREHOSE)
        await asyncio.sleep(0.5)  # every subscription attached before the first start
        starts: list[float] = []
        failures = 0
        began = time.monotonic()

        async def start_one() -> None:
            nonlocal failures
            sent = time.perf_counter()
            body = {"workflow_type": "soak_greeter", "input": "x"}
            async with session.post("/workflows/start", json=body) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
                    return
            starts.append(time.perf_counter() - sent)

        pending: set[asyncio.Task[None]] = set()
        sent = 0
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:  # open loop: late ticks are caught up, never skipped
                task = asyncio.create_task(start_one())
                pending.add(task)
                task.add_done_callback(pending.discard)
                sent += 1
            await asyncio.sleep(max(0.0, (sent / rate) - (time.monotonic() - began)))
        starting_done = time.monotonic() - began
        await asyncio.gather(*pending)
        await watchers.settle()
        await watchers.close()
    return {
        "starts": starts,
        "start_failures": failures,
        "sent": sent,
        "start_seconds": starting_done,
        "stamped": watchers.stamped,
        "probe_frames": watchers.frames,
        "lagged": watchers.lagged,
        "other_endings": watchers.other_endings,
    }


async def soak(url: str, pid: int, subscribers: int, rate: float, seconds: float) -> dict[str, Any]:
    """Bulk readers here (counting only), the probe in a subprocess, RSS sampled meanwhile."""
    watchers = StreamReaders(max(subscribers - SAMPLED, 0))
    await watchers.attach(url, FIREHOSE)
    began = time.monotonic()
    rss: list[tuple[float, float]] = []
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--probe-role", url, str(rate), str(seconds),
                   out.name]  # fmt: skip
        process = await asyncio.create_subprocess_exec(*command)
        waiting = asyncio.create_task(process.wait())
        while not waiting.done():
            rss.append((round(time.monotonic() - began, 1), round(rss_mib(pid), 1)))
            await asyncio.wait({waiting}, timeout=max(1.0, seconds / 40))
        run: dict[str, Any] = json.loads(Path(out.name).read_text())
    await watchers.settle()
    rss.append((round(time.monotonic() - began, 1), round(rss_mib(pid), 1)))
    await watchers.close()
    run["frames"] = watchers.frames + run.pop("probe_frames")
    run["lagged"] += watchers.lagged
    run["other_endings"] += watchers.other_endings
    run["rss"] = rss
    return run


def summarise(
    args: argparse.Namespace, run: dict[str, Any], server: dict[str, Any]
) -> dict[str, Any]:
    stamps = {int(k): v for k, v in server["stamps"].items()}
    delays = [
        (read_at - stamps[position]) * 1000
        for log in run["stamped"]
        for position, read_at in log
        if position in stamps
    ]
    frames = run["frames"]
    events = len(stamps)
    rss = [mib for _, mib in run["rss"]]
    warm = rss[len(rss) // 4 :] or rss
    ms = 1000
    return {
        "subscribers": args.subscribers,
        "target_starts_per_s": args.rate,
        "seconds": args.seconds,
        "starts_per_s": round(len(run["starts"]) / run["start_seconds"], 1),
        "start_failures": run["start_failures"],
        "start_p50_ms": round((percentile(run["starts"], 0.5) or 0) * ms, 1),
        "start_p99_ms": round((percentile(run["starts"], 0.99) or 0) * ms, 1),
        "events_committed": events,
        "complete_subscribers": sum(1 for n in frames if n == events),
        "lagged": run["lagged"],
        "frames_per_s": round(sum(frames) / run["start_seconds"], 1),
        "delivery_p50_ms": round(statistics.median(delays), 1) if delays else None,
        "delivery_p99_ms": round(percentile(delays, 0.99) or 0, 1) if delays else None,
        "rss_start_mib": rss[0] if rss else None,
        "rss_warm_min_mib": min(warm) if warm else None,
        "rss_end_mib": rss[-1] if rss else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run (for CI)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="workflow starts per second")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--buffer-bytes", type=int, default=1 << 20, help="per subscriber")
    parser.add_argument("--profile", action="store_true", help="cProfile the server's loop")
    parser.add_argument("--serve-role", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--probe-role", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe_role:
        url, rate, seconds, out = args.probe_role
        Path(out).write_text(json.dumps(asyncio.run(probe(url, float(rate), float(seconds)))))
        return
    if args.serve_role:
        db, out, buffer_bytes, profile = args.serve_role
        serve_role(Path(db), Path(out), int(buffer_bytes), profile == "1")
        return
    if args.smoke:
        args.subscribers, args.rate, args.seconds = 20, 20.0, 5.0
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), args.buffer_bytes, args.profile)
        try:
            run = asyncio.run(
                soak(server.url, server.process.pid, args.subscribers, args.rate, args.seconds)
            )
        finally:
            served = server.stop()
    row = summarise(args, run, served)
    print_table("Stream soak (firehose subscribers + starts at a fixed rate, SQLite)", [row])
    print_table("Server CPU seconds by thread", [served["threads"]])
    print("\nRSS (s, MiB):", " ".join(f"{t:g}:{m:g}" for t, m in run["rss"]))
    if served["profile"]:
        print("\nEvent-loop thread profile (top 25 by own time)\n" + served["profile"])
    parameters = {k: v for k, v in vars(args).items() if not k.endswith("_role")}
    write_results(
        "soak_stream_smoke" if args.smoke else "soak_stream",
        {
            "parameters": parameters,
            "result": row,
            "rss_samples": run["rss"],
            "server_thread_cpu_seconds": served["threads"],
            "other_endings": run["other_endings"],
            "profile": served["profile"] or None,
        },
    )


if __name__ == "__main__":
    main()
