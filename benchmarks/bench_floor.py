"""The floor of the design: what the parts that must stay cost per workflow, each alone.

    .venv/bin/python benchmarks/bench_floor.py            # 5,000 of each
    .venv/bin/python benchmarks/bench_floor.py --count 500  # quicker
    .venv/bin/python benchmarks/bench_floor.py --smoke      # tiny, as CI runs it

ARCHITECTURE.md keeps one supervised pykka actor per resident workflow, record
before act, and one group-commit writer on a durable store (WAL, synchronous=FULL).
A workflow that does nothing still needs each of these once: its actor started under
the supervisor, asked to begin, and stopped; its start and end built as events; its
code driven to its end; and one append of those events committed. This measures each
part on its own, with this project's own classes, as CPU time over every thread of the
process (user + system, divided by the count), then the whole engine doing the same
workflows, so the sum of the parts says how far CPU per workflow can fall while the
parts stay, and the rest is what the engine adds between them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from aionactors.core import events as ev
from aionactors.engine.dispatcher import Dispatcher, PooledActor
from aionactors.engine.registry import Registry
from aionactors.engine.writer import GroupCommitWriter
from aionactors.store.sqlite import SQLiteStore
from aionactors.workflow.driver import WorkflowDriver
from benchmarks.common import print_table, write_results
from benchmarks.cpu_usage import usage
from benchmarks.workloads import STARTERS, NoSteps, throughput
from supervision import ChildSpec, DynamicSupervisor, Restart

_POOL = Dispatcher(4, name="floor-dispatch")


class _Idle(PooledActor):
    """A pooled actor that answers an ask (the smallest a workflow actor can be)."""

    def dispatcher(self) -> Dispatcher:
        return _POOL

    def on_receive(self, message: Any) -> Any:
        return message


def _cpu_us(count: int, work: Callable[[], None]) -> float:
    """CPU µs per item, every thread of this process, over ``work`` (which does ``count``)."""
    before = usage()
    work()
    after = usage()
    return (after[0] - before[0] + after[1] - before[1]) / count * 1e6


def actor_lifecycle(count: int) -> float:
    """Start under a DynamicSupervisor, one ask, stop: from ``STARTERS`` threads."""
    supervisor = DynamicSupervisor.start(max_restarts=100, period=1.0)
    proxy = supervisor.proxy()

    def one(_: int) -> None:
        child_id = uuid.uuid4().hex
        spec = ChildSpec(child_id, _Idle, restart=Restart.TRANSIENT)
        ref = proxy.start_child(spec).get()
        ref.ask("begin")
        ref.stop()

    try:
        with ThreadPoolExecutor(STARTERS) as pool:
            return _cpu_us(count, lambda: list(pool.map(one, range(count))))
    finally:
        supervisor.stop()


def ask_round_trip(count: int) -> float:
    """One ask to a running pooled actor and its answer (a signal, a step's reply)."""
    ref = _Idle.start()
    try:
        return _cpu_us(count, lambda: [ref.ask(n) for n in range(count)])
    finally:
        ref.stop()


def _events(workflow_id: str) -> list[ev.Event]:
    now = datetime.now(UTC)
    return [
        ev.WorkflowStarted(
            seq=1, recorded_at=now, workflow_id=workflow_id, workflow_type="no_steps",
            input=0, run_id=uuid.uuid4().hex,
        ),
        ev.WorkflowCompleted(seq=2, recorded_at=now, workflow_id=workflow_id, result=None),
    ]  # fmt: skip


def build_events(count: int) -> float:
    """A start and an end, built as the engine builds them."""
    return _cpu_us(count, lambda: [_events(str(n)) for n in range(count)])


def group_commit(count: int, folder: Path) -> float:
    """One append of a start and an end per workflow, from ``STARTERS`` threads, through
    the group-commit writer into a SQLite file (WAL, synchronous=FULL)."""
    store = SQLiteStore(folder / "floor.db")
    writer = GroupCommitWriter(store)
    batches = [_events(uuid.uuid4().hex) for _ in range(count)]  # built before timing
    try:
        with ThreadPoolExecutor(STARTERS) as pool:
            return _cpu_us(
                count,
                lambda: list(
                    pool.map(lambda b: writer.append(b[0].workflow_id, b, 0, False), batches)
                ),
            )
    finally:
        writer.close()
        store.close()


def drive_code(count: int) -> float:
    """The empty workflow's code run from its start to its end command."""
    registry = Registry()
    registry.add_workflow(NoSteps)
    definition = registry.workflow("no_steps")
    starts = [_events(str(n))[0] for n in range(count)]

    def run() -> None:
        for started in starts:
            driver = WorkflowDriver(definition, started, "default")
            driver.replaying = False
            driver.start()
            driver.unmatched_commands()

    return _cpu_us(count, run)


def engine_empty(count: int, folder: Path) -> float:
    """The whole engine: ``count`` empty workflows started from ``STARTERS`` threads."""
    return _cpu_us(count, lambda: throughput(folder, count, True, empty=True))


TICKS = os.sysconf("SC_CLK_TCK")
HTTP_CLIENTS = 32


def _serve_bare_http() -> None:
    """The server role: aiohttp with one JSON route and nothing else, on 127.0.0.1."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"workflow_id": (await request.json())["workflow_id"]})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/workflows/start", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def bare_http(count: int) -> float:
    """One small JSON POST answered by aiohttp with no middleware, auth or engine: the
    server process's CPU per request (a start+signal+result round trip is three)."""
    import aiohttp

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare-http"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()

        async def load() -> float:
            async with aiohttp.ClientSession(url) as session:

                async def client(share: int) -> None:
                    for n in range(share):
                        body = {"workflow_type": "no_steps", "workflow_id": f"w{n}"}
                        async with session.post("/workflows/start", json=body) as reply:
                            await reply.read()

                await client(10)  # warm up
                before = _process_cpu_s(server.pid)
                share = max(count // HTTP_CLIENTS, 1)
                await asyncio.gather(*(client(share) for _ in range(HTTP_CLIENTS)))
                return (_process_cpu_s(server.pid) - before) / (share * HTTP_CLIENTS) * 1e6

        return asyncio.run(load())
    finally:
        server.kill()
        server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--serve-bare-http", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare_http:
        _serve_bare_http()
        return 0
    count = 50 if args.smoke else args.count
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = [
            ("actor: start under the supervisor, one ask, stop", actor_lifecycle(count)),
            ("events: build a start and an end", build_events(count)),
            ("code: drive the empty workflow to its end", drive_code(count)),
            ("store: one group-committed append of both", group_commit(count, folder)),
        ]
        whole = engine_empty(count, folder)
        ask = ask_round_trip(count)
    http = bare_http(max(count, 320))
    floor = sum(us for _, us in parts)
    rows = [{"part": name, "cpu_us_per_workflow": round(us, 1)} for name, us in parts]
    rows.append({"part": "sum of the parts (the floor)", "cpu_us_per_workflow": round(floor, 1)})
    rows.append(
        {"part": "the engine, empty workflow, concurrent", "cpu_us_per_workflow": round(whole, 1)}
    )
    rows.append({"part": "(one more ask to a running actor)", "cpu_us_per_workflow": round(ask, 1)})
    rows.append(
        {
            "part": "(one bare aiohttp JSON request, server CPU)",
            "cpu_us_per_workflow": round(http, 1),
        }
    )
    print_table(f"The floor of the design, {count:,} workflows, CPU µs each (all threads)", rows)
    write_results("floor", {"parameters": {"count": count, "starters": STARTERS}, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
