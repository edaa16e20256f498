"""`aionactors serve` as an operator meets it (real subprocesses): startup errors are one line
and create nothing; the drain answers 503 and logs within one drain timeout; operational
events are logged as JSON records with the workflow id."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import aiohttp

from tests.transports.processes import listening_url
from tests.transports.test_serve import ROOT, server_environment

DRAIN_SECONDS = 3.0


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aionactors.cli", *args],
        cwd=cwd, env=server_environment() | {"PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_a_busy_port_is_one_line_and_creates_no_database(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--db", "sqlite:///busy.db", cwd=tmp_path)
    assert_one_line_error(done, f"cannot listen on 127.0.0.1:{port}", "in use")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_postgres_database_is_named(tmp_path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/aionactors_no_such_database"
    done = run_cli("serve", "--port", "0", "--db", url, cwd=tmp_path)
    assert_one_line_error(done, 'database "aionactors_no_such_database" does not exist')


def test_demo_with_a_bad_db_is_one_line(tmp_path) -> None:
    assert_one_line_error(run_cli("demo", "--db", "bogus:///x", cwd=tmp_path), "unknown scheme")
    missing = f"sqlite:///{tmp_path}/no/such/folder/x.db"
    assert_one_line_error(run_cli("demo", "--db", missing, cwd=tmp_path), "unable to open")
    assert list(tmp_path.iterdir()) == []


def records(stderr: bytes) -> list[dict]:
    return [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]


def at(record: dict) -> datetime:
    return datetime.fromisoformat(record["time"].replace("Z", "+00:00"))


async def test_drain_answers_503_logs_events_and_ends_within_one_timeout(tmp_path) -> None:
    env = server_environment() | {
        "AIONACTORS_DRAIN_TIMEOUT_SECONDS": str(DRAIN_SECONDS),
        "AIONACTORS_SERVER": "http://127.0.0.1:1",  # the client's variable: serve ignores it
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aionactors.cli", "serve", "--port", "0", "--log-format", "json",
        "--db", f"sqlite:///{tmp_path / 'drain.db'}", "--load", "tests.transports.sample_workflows",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        base = await listening_url(process)
        async with aiohttp.ClientSession(base) as session:
            async with session.post(
                "/workflows/start",
                json={
                    "workflow_type": "failing",
                    "workflow_id": "wf-fails",
                    "input": "broken on purpose",
                },
            ) as response:
                assert response.status == 200, await response.text()
            async with session.post(
                "/workflows/result", json={"workflow_id": "wf-fails", "wait_ms": 20_000}
            ) as response:
                assert (await response.json())["status"] == "Failed"
            async with session.post(
                "/workflows/start", json={"workflow_type": "collector", "workflow_id": "wf-q"}
            ) as response:
                assert response.status == 200, await response.text()
            stuck = asyncio.ensure_future(
                session.post("/workflows/query", json={"workflow_id": "wf-q", "query_name": "slow"})
            )
            await asyncio.sleep(0.3)  # let the query reach the server (its outcome is not tested)
            process.send_signal(signal.SIGTERM)
            async with aiohttp.ClientSession(base) as fresh:  # new connections during the drain
                for _ in range(200):
                    async with fresh.get("/health/ready") as response:
                        if response.status == 503:
                            break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError("the server never reported draining")
                async with fresh.post(
                    "/workflows/start", json={"workflow_type": "greeter", "input": "late"}
                ) as response:
                    assert response.status == 503
                    body = await response.json()
                assert (body["code"], body["error_type"]) == ("unavailable", "ShuttingDown")
                async with fresh.post("/workflows/list", json={}) as response:
                    assert response.status == 503
            assert await asyncio.wait_for(process.wait(), 60) == 0
            stuck.cancel()
        assert process.stderr is not None
        logged = records(await process.stderr.read())
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    messages = [r["message"] for r in logged]
    recovery = next(r for r in logged if r["message"].startswith("recovery finished"))
    assert (recovery["level"], recovery["workflows"]) == ("INFO", 0)
    failed = [r for r in logged if r.get("workflow_id") == "wf-fails"]
    assert len(failed) == 1, messages
    assert failed[0]["level"] == "WARNING" and "broken on purpose" in failed[0]["message"]
    assert failed[0]["run_id"] and failed[0]["logger"] == "aionactors.events"
    draining = next(r for r in logged if "draining" in r["message"])
    still = next(r for r in logged if r["message"].startswith("work still running"))
    # One deadline for the whole drain (it used to be the listener's, then the engine's again).
    assert (at(still) - at(draining)).total_seconds() < 2 * DRAIN_SECONDS, (draining, still)
